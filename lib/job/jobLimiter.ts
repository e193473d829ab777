import { AdaptiveLimiter } from '../modelarts/adaptiveLimiter.js';
import { PaceMemory } from '../modelarts/PaceMemory.js';
import type { CleanupTarget } from '../modelarts/CleanupTarget.js';
import type { CleanupDeps } from './types.js';

/** The limiter of one invocation of a job, with what keeps it in step with the others sharing its limit. */
export interface JobLimiter {
  readonly limiter: AdaptiveLimiter;
  /** Called after every answer: tells the limiter how many limiters share the limit now. */
  readonly onAnswer: () => void;
  /** Called once the pass ended (even a failed one): keeps what the limiter learned for the container's next job. */
  readonly remember: () => void;
}

/**
 * One adaptive limiter per invocation, shared by all its chunks; `maxInFlight` is its ceiling
 * (docs/throughput.md). It starts at the pace the container's last job against the same limit
 * found, if recent (lib/modelarts/PaceMemory.ts), and grows as slowly as the number of limiters
 * sharing the limit requires (`sharers`: the parts of its split job running now; "Sharers" in
 * lib/modelarts/adaptiveLimiter.ts).
 */
export function createJobLimiter(deps: Pick<CleanupDeps, 'config' | 'clock' | 'pace'>, target: CleanupTarget, maxInFlight: number, sharers?: () => number | undefined): JobLimiter {
  const { config, clock, pace } = deps;
  const key = PaceMemory.keyOf(config.MODELARTS_ENDPOINT, target.projectId);
  const carried = pace?.recall(key, clock.now());
  const initialSharers = sharers?.();
  const limiter = new AdaptiveLimiter(
    { min: config.LIMITER_MIN, max: maxInFlight, initial: config.LIMITER_INITIAL, ...(carried === undefined ? {} : { resume: carried }), ...(initialSharers === undefined ? {} : { sharers: initialSharers }) },
    clock,
  );
  return {
    limiter,
    onAnswer: () => {
      const now = sharers?.();
      if (now !== undefined) limiter.setSharers(now);
    },
    // What the limiter learned outlives the invocation: the pace of the limit is the service's, not the job's.
    remember: () => {
      if (limiter.used) pace?.keep(key, limiter.carry());
    },
  };
}
