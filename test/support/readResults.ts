import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';

/** One line of `results.jsonl.gz`. */
export interface ResultLine {
  image_id: string;
  outcome: string;
  line: number;
  error_code?: string;
  error_message?: string;
}

/** Reads a job's `results.jsonl.gz` (`s3://bucket/key`) whole: fine for the sizes tests use. */
export async function readResults(s3: S3Client, uri: string): Promise<ResultLine[]> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  const object = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  const text = gunzipSync(Buffer.from(await object.Body!.transformToByteArray())).toString('utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as ResultLine);
}
