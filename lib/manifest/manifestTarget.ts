/**
 * The target a manifest's key names by convention, for plain manifests that cannot carry one:
 * `…/v1/{projectId}/{dataAnnotationId}/{name}` (a labelling job) or
 * `…/v2/{projectId}/{datasetId}/{name}` (a dataset), e.g.
 * `pending/v1/cc0f0990a56f4a1b9e41c85e79cc511c/282/old-images.txt`. Undefined when the key does
 * not follow it. The result is a target as a user writes it; it is validated like any other.
 */
export function targetFromManifestKey(key: string): { projectId: string; dataAnnotationId?: string; datasetId?: string } | undefined {
  const match = /(?:^|\/)v([12])\/([^/]+)\/([^/]+)\/[^/]+$/.exec(key);
  if (!match) return undefined;
  const [, api, projectId, container] = match as unknown as [string, string, string, string];
  return api === '1' ? { projectId, dataAnnotationId: container } : { projectId, datasetId: container };
}
