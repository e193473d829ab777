/**
 * Whether an S3 error means "no such key": `NoSuchKey` for GetObject, `NotFound` for HeadObject,
 * or a bare 404 (answers without a body).
 */
export function isS3NotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}
