/**
 * Reads the error code and message from either error body the service family uses:
 * `{"error_code","error_msg"}` or `{"error":{"code","message"}}`.
 */
export function readErrorBody(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const flat = body as { error_code?: unknown; error_msg?: unknown; error?: unknown };
  if (typeof flat.error_code === 'string') {
    return { code: flat.error_code, ...(typeof flat.error_msg === 'string' ? { message: flat.error_msg } : {}) };
  }
  if (typeof flat.error === 'object' && flat.error !== null) {
    const nested = flat.error as { code?: unknown; message?: unknown };
    return {
      ...(typeof nested.code === 'string' ? { code: nested.code } : {}),
      ...(typeof nested.message === 'string' ? { message: nested.message } : {}),
    };
  }
  return {};
}
