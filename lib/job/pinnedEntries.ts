import { ManifestChangedError } from '../core/errors.js';
import type { JobEntry } from '../pipeline/JobEntry.js';
import type { JobSource } from './prepareJobSource.js';

/**
 * A job's entries, or none when its pinned manifest version is gone at the first read (before any
 * delete): `onChanged` is told, and the run ends the job with what earlier invocations did. Gone
 * later, the error reaches the run as it is.
 */
export async function* pinnedEntries(source: JobSource, onChanged: (error: ManifestChangedError) => void): AsyncGenerator<JobEntry> {
  const iterator = source.entries()[Symbol.asyncIterator]();
  try {
    let next: IteratorResult<JobEntry>;
    try {
      next = await iterator.next();
    } catch (error) {
      if (!(error instanceof ManifestChangedError)) throw error;
      onChanged(error);
      return;
    }
    for (; next.done !== true; next = await iterator.next()) yield next.value;
  } finally {
    await iterator.return?.();
  }
}
