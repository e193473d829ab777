import { afterAll, beforeAll } from 'vitest';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack/startLocalStack.js';

/**
 * Starts the embedded local stack once for a test file (before its tests and its other
 * `beforeAll` hooks) and stops it after them. Returns the stack, usable inside tests and hooks.
 */
export function useLocalStack(options?: LocalStackOptions): LocalStack {
  let current: LocalStack | undefined;
  beforeAll(async () => {
    current = await startLocalStack(options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  // The stack exists only once the hook has run: hand out a view that reaches it then.
  return new Proxy({} as LocalStack, {
    get(_target, key) {
      if (current === undefined) throw new Error('the local stack is not started yet: use it inside tests and hooks');
      return Reflect.get(current, key) as unknown;
    },
  });
}
