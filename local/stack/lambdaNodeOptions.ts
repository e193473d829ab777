/**
 * The Node options the deployed functions run with (serverless.yml sets `NODE_OPTIONS` to this;
 * test/deploy/package.test.ts checks they agree), so benchmarks measure what runs on Lambda.
 * Every figure below is `npm run bench:manifest`'s (a million IDs; docs/throughput.md "Memory").
 *
 * - `--max-old-space-size=384` (MiB, three quarters of the functions' 512 MB; change both
 *   together): a ceiling the heap never nears (a job's live heap is about 25 MiB; an unsplit job
 *   of the most entries 512 MB holds adds 12 bytes a normalised line: lib/job/unsplitCapacity.ts),
 *   set for what it does to V8's heap growth. V8 lets the old generation grow to up to 4× its live
 *   size before a full collection when the heap limit it derives from the machine is large (it is
 *   here, on a 24 GB machine), and to about 1.5× under such a ceiling: the heap committed 93–108
 *   MiB at the peak without it, 37–44 with 768; peak RSS 218 → 152–157 MiB, for 25% more CPU (more
 *   full collections). 256, 384, 512 and 768 measured within the runs' spread of one another (384
 *   with V8's optimise-for-size mode, lib/deps/optimizeHeapForSize.ts: 124.4–124.8 MiB, as 768).
 * - `--max-semi-space-size=2` (MiB) keeps the young generation small: a job streams tens of
 *   megabytes of short-lived buffers (manifest chunks, request bodies, report lines); a scavenge
 *   frees them sooner. Measured the same way (with the ceiling above): 157 MiB at 4, 152 at 2,
 *   151 at 1 but 20% more CPU than at 2, 169 at 8.
 * - No `--enable-source-maps` (it was set until issue 14): with it, Node parses and keeps the
 *   bundle's source map (serverless.yml writes it linked, sources included: 4.8 MB) when the
 *   bundle loads, 10.3 MiB more heap for as long as the process lives (the process at rest: 99.6
 *   MiB with it, 88.9 without). Stack traces then name the bundle's lines and the functions'
 *   names (esbuild's keepNames); the .map file beside each bundle maps them back by hand.
 */
export const LAMBDA_NODE_OPTIONS = '--max-semi-space-size=2 --max-old-space-size=384';

/**
 * The environment of the deployed functions' Node process beyond their configuration:
 * `NODE_OPTIONS` above and two settings of glibc's allocator (serverless.yml's provider
 * `environment` sets all three; a benchmark's job process gets this whole object). Figures:
 * docs/throughput.md "Memory".
 *
 * - `MALLOC_TRIM_THRESHOLD_=131072` (glibc's own default, 128 KiB, made fixed): by default glibc
 *   raises its trim and mmap thresholds each time a large block is freed (up to 64 and 32 MiB), so
 *   after V8 frees its compilation memory and large buffers, the freed top of the heap is kept
 *   instead of given back. Fixed, it is given back. The process at rest: 88.8 → 71.3 MiB; a
 *   million-ID job's peak: 155.6 → 138–141 MiB.
 * - `MALLOC_MMAP_THRESHOLD_=32768`: blocks of 32 KiB and more (the sockets' 64 KiB read buffers,
 *   most of the job's short-lived buffers) are mapped apart and unmapped when freed, instead of
 *   leaving holes in the heap that no trim can give back: peak 138–141 → 130–131 MiB, with no
 *   CPU time to tell apart from the runs' spread.
 */
export const LAMBDA_PROCESS_ENV: Readonly<Record<string, string>> = Object.freeze({
  NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
  MALLOC_TRIM_THRESHOLD_: '131072',
  MALLOC_MMAP_THRESHOLD_: '32768',
});
