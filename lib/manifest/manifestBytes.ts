import { ManifestError } from './ManifestError.js';
import type { ManifestReadLimits } from './ManifestReadLimits.js';

/** What {@link manifestBytes} checks as the bytes come: their number, and the time left. */
export interface ManifestByteBounds {
  limits: Pick<ManifestReadLimits, 'maxBytes' | 'permittedEntries'>;
  /** Epoch ms after which reading stops (the preparing pass's share of the invocation). */
  deadline: number;
  now: () => number;
}

/**
 * The (decompressed) bytes of a manifest as they arrive, counted: refused once they pass
 * `maxBytes` — so a gzip bomb is refused after the first bytes no permitted job could need, not
 * after gigabytes — or once the deadline has passed. Corrupt gzip is a {@link ManifestError};
 * any other failure of the stream (the bytes could not be fetched) is passed on as it is.
 */
export async function* manifestBytes(input: AsyncIterable<Buffer | string>, bounds: ManifestByteBounds): AsyncGenerator<Buffer> {
  const { maxBytes, permittedEntries } = bounds.limits;
  let size = 0;
  try {
    for await (const chunk of input) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > maxBytes) {
        throw new ManifestError(
          `the manifest is larger than ${maxBytes} bytes (decompressed): more than the ${permittedEntries} entries this job may hold could need at MANIFEST_BYTES_PER_ENTRY bytes each (and one longest line); a job of more entries needs options.confirmEntries set to their number`,
          { byte: maxBytes },
        );
      }
      if (bounds.now() >= bounds.deadline) {
        throw new ManifestError(`the preparing pass ran out of time: reading stopped at byte ${size}, at its share of the invocation's time; split the manifest into smaller ones`, { byte: size });
      }
      yield bytes;
    }
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (!(error instanceof ManifestError) && typeof code === 'string' && code.startsWith('Z_')) {
      throw new ManifestError(`the gzip data is truncated or corrupt (${(error as Error).message})`, {}, { cause: error });
    }
    throw error;
  }
}
