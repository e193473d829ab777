import { jobSummarySchema } from '../lib/report/jobSummary.js';
import { reportLocation } from '../lib/report/ReportLocation.js';
import { readS3Json } from '../lib/aws/readS3Json.js';
import { scaleOutLayout } from '../lib/scaleout/scaleOutLayout.js';
import type { LocalStack } from '../local/stack/startLocalStack.js';

/** What the parts of a split job say of themselves, from their own summaries. */
export interface PartFigures {
  /** IDs/s of each part over its own duration: all parts progress, none starves. */
  partRates: { min: number; median: number; max: number };
  /** The parts' adaptive limiters: decreases and 429s summed, the lowest and highest limit, the median chunk latency (client side). */
  limiters: { decreases: number; throttled: number; lowestLimit: number; highestLimit: number; medianChunkP50Ms: number };
}

const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Reads the summaries of parts 1..`parts` of a split job in the local stack's report bucket. */
export async function partFigures(stack: LocalStack, jobId: string, parts: number): Promise<PartFigures> {
  const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET as string, 'reports/', jobId));
  const rates: number[] = [];
  const p50s: number[] = [];
  const limiters = { decreases: 0, throttled: 0, lowestLimit: Number.POSITIVE_INFINITY, highestLimit: 0, medianChunkP50Ms: 0 };
  for (let part = 1; part <= parts; part += 1) {
    const summary = await readS3Json(stack.s3, layout.job.bucket, layout.partLocation(part).summaryKey, jobSummarySchema);
    if (summary === undefined) continue;
    rates.push(summary.counts.deleted / Math.max(1, summary.durationMs / 1_000));
    p50s.push(summary.chunkLatencyMs.p50);
    if (summary.limiter !== undefined) {
      limiters.decreases += summary.limiter.decreases;
      limiters.throttled += summary.limiter.throttled;
      limiters.lowestLimit = Math.min(limiters.lowestLimit, summary.limiter.lowest);
      limiters.highestLimit = Math.max(limiters.highestLimit, summary.limiter.highest);
    }
  }
  limiters.medianChunkP50Ms = Math.round(median(p50s));
  rates.sort((a, b) => a - b);
  return { partRates: { min: Math.round(rates[0] ?? 0), median: Math.round(median(rates)), max: Math.round(rates.at(-1) ?? 0) }, limiters };
}
