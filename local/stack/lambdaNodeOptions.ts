/**
 * The Node options the deployed functions run with (serverless.yml sets `NODE_OPTIONS` to this;
 * test/deploy/package.test.ts checks they agree), so benchmarks measure what runs on Lambda.
 *
 * - `--max-old-space-size=768` (MiB, three quarters of the functions' 1,024 MB; change both
 *   together): a ceiling the heap never nears (a job's live heap is about 25 MiB), set for what it
 *   does to V8's heap growth. V8 lets the old generation grow to up to 4× its live size before a
 *   full collection when the heap limit it derives from the machine is large (it is here, on a
 *   24 GB machine), and to about 1.5× under 768 MiB. Measured by `npm run bench:manifest` on a
 *   million IDs (docs/throughput.md "Memory"): the heap committed 93–108 MiB at the peak without
 *   it, 37–44 with it; peak RSS 218 → 152–157 MiB, for 25% more CPU (more full collections).
 * - `--max-semi-space-size=2` (MiB) keeps the young generation small: a job streams tens of
 *   megabytes of short-lived buffers (manifest chunks, request bodies, report lines); a scavenge
 *   frees them sooner. Measured the same way (with the ceiling above): 157 MiB at 4, 152 at 2,
 *   151 at 1 but 20% more CPU than at 2, 169 at 8.
 */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps --max-semi-space-size=2 --max-old-space-size=768';
