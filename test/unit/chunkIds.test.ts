import { describe, expect, it } from 'vitest';
import { chunkIds } from '../../lib/chunkIds.js';

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('chunkIds', () => {
  it('groups items into chunks of the given size, in order', async () => {
    // Prepare
    const items = [1, 2, 3, 4, 5, 6];

    // Act
    const chunks = await collect(chunkIds(items, 3));

    // Assess
    expect(chunks).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('makes the last chunk shorter when the items do not divide evenly', async () => {
    // Prepare
    const items = [1, 2, 3, 4, 5, 6, 7];

    // Act
    const chunks = await collect(chunkIds(items, 3));

    // Assess
    expect(chunks).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('puts everything in one chunk when the size exceeds the count', async () => {
    // Act
    const chunks = await collect(chunkIds(['a', 'b'], 1000));

    // Assess
    expect(chunks).toEqual([['a', 'b']]);
  });

  it('yields nothing for empty input', async () => {
    // Act
    const chunks = await collect(chunkIds([], 5));

    // Assess
    expect(chunks).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('throws a RangeError for size %s', async (size) => {
    // Act
    const pulling = collect(chunkIds([1, 2, 3], size));

    // Assess
    await expect(pulling).rejects.toThrow(RangeError);
    await expect(collect(chunkIds([1, 2, 3], size))).rejects.toThrow(`chunk size must be a positive whole number, got ${size}`);
  });

  it('works with an async iterable source', async () => {
    // Prepare
    async function* source(): AsyncGenerator<string> {
      for (const id of ['a', 'b', 'c', 'd', 'e']) {
        await Promise.resolve();
        yield id;
      }
    }

    // Act
    const chunks = await collect(chunkIds(source(), 2));

    // Assess
    expect(chunks).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('pulls from the source only as far as the chunk being built', async () => {
    // Prepare
    let pulled = 0;
    function* source(): Generator<number> {
      for (let i = 0; i < 100; i += 1) {
        pulled += 1;
        yield i;
      }
    }
    const chunks = chunkIds(source(), 10);

    // Act
    const first = await chunks.next();

    // Assess
    expect(first.value).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(pulled).toBe(10);
  });
});
