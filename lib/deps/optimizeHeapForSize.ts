import { setFlagsFromString } from 'node:v8';

/**
 * Puts V8 in its optimise-for-size mode (`--optimize-for-size`) for the rest of the process:
 * smaller heap growth steps and an earlier memory reducer, fewer and smaller optimised functions.
 * Every handler calls it first, at cold start. Lambda takes only the flags `NODE_OPTIONS` allows,
 * and this is not one of them; set from here, it has the effect the command-line flag has, measured
 * both ways (`npm run bench:manifest`, a million-ID job, docs/throughput.md "Memory"): peak RSS
 * 133–135 → 124–125 MiB (the old generation is collected at a smaller multiple of its live size),
 * for about a quarter more CPU (15.9 → 19.7 s per million IDs): a delete job waits on the service,
 * not on its CPU. It changes how V8 manages memory, never what the code computes.
 */
export function optimizeHeapForSize(): void {
  setFlagsFromString('--optimize-for-size');
}
