import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readS3Json } from '../aws/readS3Json.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import type { Clock } from '../core/clock.js';
import type { ReportLocation } from '../report/ReportLocation.js';

const failuresSchema = z.object({
  formatVersion: z.literal(1),
  failures: z.number().int().min(0),
  /** An attempt under way: still here when the next one starts, its run crashed or timed out. */
  open: z.object({ owner: z.string(), startedAt: z.iso.datetime() }).optional(),
  lastError: z.string().optional(),
});

type FailuresRecord = z.infer<typeof failuresSchema>;

/**
 * How often the job of one pending manifest version failed (`failures.json` in its report
 * folder), so a file that fails every time is quarantined (moved to `failed/`) instead of retried
 * for ever. A failure is an error other than a refusal, or an attempt that never ended: each
 * attempt is marked open when it starts (under the manifest's claim, so one at a time) and closed
 * when it ends, so an attempt killed by a crash or a timeout is counted by the next one.
 */
export class PendingFailures {
  private constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly clock: Pick<Clock, 'now'>,
    private record: FailuresRecord,
  ) {}

  /** Reads the record, counting an attempt left open (its run never ended) as a failure. */
  public static async read(s3: S3Client, location: Pick<ReportLocation, 'bucket' | 'prefix'>, clock: Pick<Clock, 'now'>): Promise<PendingFailures> {
    const key = `${location.prefix}failures.json`;
    const stored = await readS3Json(s3, location.bucket, key, failuresSchema);
    const { open, ...record }: FailuresRecord = stored ?? { formatVersion: 1, failures: 0 };
    if (open !== undefined) {
      record.failures += 1;
      record.lastError = `an attempt started at ${open.startedAt} (${open.owner}) never ended: it crashed or ran out of time`;
    }
    return new PendingFailures(s3, location.bucket, key, clock, record);
  }

  /** Failures so far. */
  public get count(): number {
    return this.record.failures;
  }

  /** What the last failure was, in words. */
  public get lastError(): string | undefined {
    return this.record.lastError;
  }

  /** Marks an attempt open (written before the job runs). */
  public async begin(owner: string): Promise<void> {
    await this.write({ ...this.record, open: { owner, startedAt: new Date(this.clock.now()).toISOString() } });
  }

  /**
   * The attempt ended with an outcome (done, refused, cut by the deadline): nothing counted. The
   * record goes once nothing is left to count: the file left `pending/`, or no failure so far.
   */
  public async end(leftPending: boolean): Promise<void> {
    if (!leftPending || this.record.failures === 0) {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key }));
      return;
    }
    await this.write(this.record);
  }

  /** The attempt failed with an error: counted. */
  public async fail(error: unknown): Promise<void> {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    await this.write({ ...this.record, failures: this.record.failures + 1, lastError: message.slice(0, 500) });
  }

  // What is kept in memory never holds the open mark: ending or failing an attempt closes it.
  private async write(record: FailuresRecord): Promise<void> {
    const { open: _open, ...closed } = record;
    this.record = closed;
    await writeS3Json(this.s3, this.bucket, this.key, record);
  }
}
