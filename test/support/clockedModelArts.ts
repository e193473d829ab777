import type { ModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import type { AdvancingClock } from './virtualClock.js';

/** One call to the client, as the pipeline made it. */
export interface ClockedCall {
  /** Virtual time when the call was made, before the clock moved. */
  at: number;
  ids: readonly string[];
  /** True when the client gave up waiting (TIMEOUT): the service may or may not have done the delete. */
  timedOut?: boolean;
}

/**
 * Wraps the real ModelArts client (the requests still go over HTTP to the emulator) so that every
 * call moves a virtual clock forward by `msPerRequest`: an invocation's "time" is then the number
 * of requests it sent, and a deadline cuts it at a predictable place. Records each call, and
 * which calls timed out on the client's side (ambiguous: the server may have deleted anyway).
 */
export function clockedModelArts(real: ModelArtsClient, clock: AdvancingClock, msPerRequest: number, calls: ClockedCall[] = []): ModelArtsClient & { calls: ClockedCall[] } {
  return {
    calls,
    deleteBatch: async (target, ids, options) => {
      const call: ClockedCall = { at: clock.now(), ids: [...ids] };
      calls.push(call);
      clock.advance(msPerRequest);
      const result = await real.deleteBatch(target, ids, options);
      if (result.kind === 'batch_failed' && result.failure.code === 'TIMEOUT') call.timedOut = true;
      return result;
    },
  };
}
