// Vitest setup file (vitest.config.ts `setupFiles`): records everything this test file's process
// writes to stdout and stderr (the Powertools logger's output included), and fails the file if a
// test credential or an emulator-issued token appears in it. The check itself is unit-tested in
// test/unit/findLeakedSecrets.test.ts.
import { afterAll } from 'vitest';
import { findLeakedSecrets } from './testCredentials.js';

const captured: string[] = [];

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return write(chunk, ...rest);
  });
}

afterAll(() => {
  const leaked = findLeakedSecrets(captured.join(''));
  // Name what leaked, never the value.
  if (leaked.length > 0) throw new Error(`secrets found in the output of this test file: ${leaked.join(', ')}`);
});
