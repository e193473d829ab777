import { CleanupError } from './errors.js';

/** A manifest that cannot be read, or is not valid in its format; says where (line or byte) and why. */
export class ManifestError extends CleanupError {
  /** 1-based line of the problem, when it is about a line. */
  public readonly line: number | undefined;
  /** 0-based byte offset of the problem in the (decompressed) manifest, when known. */
  public readonly byte: number | undefined;

  public constructor(reason: string, where: { line?: number; byte?: number } = {}, options?: { cause?: unknown }) {
    const at = where.line !== undefined ? `line ${where.line}: ` : where.byte !== undefined ? `byte ${where.byte}: ` : '';
    super('INVALID_MANIFEST', `Invalid manifest: ${at}${reason}`, options);
    this.line = where.line;
    this.byte = where.byte;
  }
}
