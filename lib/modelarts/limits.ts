/** Hard upper bound of IDs in one delete request, whatever the configuration says. */
export const MAX_CHUNK_SIZE = 1000;

/** Default number of IDs in one delete request: the listing API's page size, a safe guess. */
export const DEFAULT_CHUNK_SIZE = 100;
