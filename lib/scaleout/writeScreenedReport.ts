import type { S3Client } from '@aws-sdk/client-s3';
import type { PreparedJob } from '../job/types.js';
import { concatenateReports } from '../report/assembleReport.js';
import { ReportStreams } from '../report/ReportStreams.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';

/**
 * Writes part 0's `failed.csv` and `results.jsonl.gz` (what the planner settled itself) from the
 * planning windows' files, in window order, so in line order; header-only files when no window
 * settled anything.
 */
export async function writeScreenedReport(s3: S3Client, layout: ScaleOutLayout, windows: readonly number[], source: PreparedJob['source']): Promise<void> {
  if (windows.length > 0) {
    await concatenateReports(s3, layout.partLocation(0), windows.map((w) => layout.screenedWindow(w)));
    return;
  }
  await new ReportStreams(s3, { bucket: layout.job.bucket, ...layout.screened }, source.target).close();
}
