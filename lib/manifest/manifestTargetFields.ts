import { ManifestError } from './ManifestError.js';
import type { ManifestTargetFields } from './ManifestItem.js';

/**
 * The target fields a CSV row or JSON Lines object names (`project_id`/`projectId`,
 * `data_annotation_id`/`dataAnnotationId`, `dataset_id`/`datasetId`), trimmed; undefined when it
 * names none. Empty values count as absent.
 *
 * @throws {ManifestError} on the line, when one of them is not a string.
 */
export function manifestTargetFields(record: Record<string, unknown>, line: number): ManifestTargetFields | undefined {
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const value = record[key];
      if (value === undefined || value === '') continue;
      if (typeof value !== 'string') throw new ManifestError(`"${key}" must be a string`, { line });
      return value.trim();
    }
    return undefined;
  };
  const projectId = pick('project_id', 'projectId');
  const dataAnnotationId = pick('data_annotation_id', 'dataAnnotationId');
  const datasetId = pick('dataset_id', 'datasetId');
  if (projectId === undefined && dataAnnotationId === undefined && datasetId === undefined) return undefined;
  return {
    ...(projectId === undefined ? {} : { projectId }),
    ...(dataAnnotationId === undefined ? {} : { dataAnnotationId }),
    ...(datasetId === undefined ? {} : { datasetId }),
  };
}
