/**
 * The Node options the deployed functions run with (serverless.yml sets `NODE_OPTIONS` to this;
 * test/deploy/package.test.ts checks they agree), so benchmarks measure what runs on Lambda.
 *
 * `--max-semi-space-size=4` (MiB) keeps the young generation small: a job streams tens of
 * megabytes of short-lived buffers (manifest chunks, request bodies, report lines), and with the
 * default 16 MiB semi-spaces they pile up outside the heap before a scavenge frees them. Measured by
 * `npm run bench:manifest` on a million IDs: peak RSS 258 MiB at about 92k IDs/s by default,
 * 221 MiB at about 71k IDs/s with it — under the 256 MB of a small Lambda.
 */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps --max-semi-space-size=4';
