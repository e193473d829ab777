import { JobValidationError } from '../core/errors.js';

/**
 * A manifest that cannot be read, or is not valid in its format; says where (line or byte) and
 * why. A job whose manifest is invalid is refused as a whole, before anything is deleted.
 */
export class ManifestError extends JobValidationError {
  /** What is wrong, without the location. */
  public readonly reason: string;
  /** 1-based line of the problem, when it is about a line. */
  public readonly line: number | undefined;
  /** 0-based byte offset of the problem in the (decompressed) manifest, when known. */
  public readonly byte: number | undefined;

  public constructor(reason: string, where: { line?: number; byte?: number; manifest?: string } = {}, options?: { cause?: unknown }) {
    const at = where.line !== undefined ? `line ${where.line}: ` : where.byte !== undefined ? `byte ${where.byte}: ` : '';
    super([{ path: 'manifest', message: `${where.manifest === undefined ? '' : `${where.manifest}: `}${at}${reason}` }], options);
    this.reason = reason;
    this.line = where.line;
    this.byte = where.byte;
  }

  /** The same error, naming the manifest it is about. */
  public withManifest(uri: string): ManifestError {
    return new ManifestError(this.reason, { ...(this.line === undefined ? {} : { line: this.line }), ...(this.byte === undefined ? {} : { byte: this.byte }), manifest: uri }, { cause: this.cause });
  }
}
