/**
 * Whether S3 refused a conditional request (`If-None-Match: *`, `If-Match`): 412 when the condition
 * does not hold, 409 when S3 saw a concurrent conditional write to the same key.
 */
export function isConditionFailure(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 412 || status === 409;
}
