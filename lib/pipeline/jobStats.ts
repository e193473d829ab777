/** Request counters of one job, shared by all its chunks. */
export interface JobStats {
  /** HTTP requests sent to the annotation service, retries and bisection included. */
  requests: number;
  /** Requests that repeated an earlier, failed one. */
  retries: number;
  /** Responses that asked us to slow down (429, throttling codes). */
  throttled: number;
}

/** A fresh set of counters at zero. */
export function createJobStats(): JobStats {
  return { requests: 0, retries: 0, throttled: 0 };
}
