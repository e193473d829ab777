import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { readS3Json } from '../aws/readS3Json.js';
import type { Clock } from '../core/clock.js';
import { cancelRequestSchema, type CancelRequest } from './cancelRequest.js';

/**
 * Looks for a job's cancel request (`cancel.json`, lib/job/cancelRequest.ts) while it runs: once
 * awaited before the first delete, then at most every `intervalMs`, each look started from the
 * run's own steps (a settled chunk, a chunk about to start) and never awaited by them, so the
 * deleting pass does not wait on S3. Driven by the run, it needs no timer that could outlive it: a
 * run whose chunks all wait on retries starts no new one either. A look that fails is logged and
 * tried again at the next interval: a lost look delays a cancel, it never invents one.
 */
export class CancelWatch {
  private seen: CancelRequest | undefined;
  private lastLookAt = Number.NEGATIVE_INFINITY;
  private looking: Promise<void> | undefined;

  public constructor(
    private readonly deps: { s3: S3Client; clock: Pick<Clock, 'now'>; logger: Pick<Logger, 'warn'> },
    private readonly where: { bucket: string; key: string },
    private readonly intervalMs: number,
  ) {}

  /** The cancel request, once one was seen. */
  public get requested(): CancelRequest | undefined {
    return this.seen;
  }

  /** Looks now and waits for the answer (before the first delete). */
  public async look(): Promise<CancelRequest | undefined> {
    this.poll(true);
    await this.looking;
    return this.seen;
  }

  /** Starts a look when the last one is `intervalMs` old and none is under way; returns at once. */
  public poll(now = false): void {
    if (this.seen !== undefined || this.looking !== undefined) return;
    const at = this.deps.clock.now();
    if (!now && at - this.lastLookAt < this.intervalMs) return;
    this.lastLookAt = at;
    this.looking = readS3Json(this.deps.s3, this.where.bucket, this.where.key, cancelRequestSchema)
      .then((request) => {
        this.seen ??= request;
      })
      .catch((error: unknown) => {
        this.deps.logger.warn('cancel request not read: looking again shortly', { key: this.where.key, error: error as Error });
      })
      .finally(() => {
        this.looking = undefined;
      });
  }

  /** Waits for a look under way (so none outlives the run). */
  public async settle(): Promise<void> {
    await this.looking;
  }
}
