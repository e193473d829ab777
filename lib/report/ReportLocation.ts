/** Where a job's report lives in S3. */
export interface ReportLocation {
  bucket: string;
  /** Key prefix of the job's folder, ending in `/`. */
  prefix: string;
  summaryKey: string;
  failedKey: string;
  resultsKey: string;
  checkpointKey: string;
  claimKey: string;
  /** Per-invocation part files live under here until the job completes. */
  partsPrefix: string;
}

/** Builds the S3 keys of a job's report folder. */
export function reportLocation(bucket: string, prefix: string, jobId: string): ReportLocation {
  const folder = `${prefix}${jobId}/`;
  return {
    bucket,
    prefix: folder,
    summaryKey: `${folder}summary.json`,
    failedKey: `${folder}failed.csv`,
    resultsKey: `${folder}results.jsonl.gz`,
    checkpointKey: `${folder}checkpoint.json`,
    claimKey: `${folder}claim.json`,
    partsPrefix: `${folder}parts/`,
  };
}
