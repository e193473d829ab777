/** Target fields a manifest may name for itself, as written in it (snake_case columns or camelCase JSON). */
export interface ManifestTargetFields {
  projectId?: string;
  dataAnnotationId?: string;
  datasetId?: string;
}

/** One thing read from a manifest: an ID candidate with its line, or the target it names. */
export type ManifestItem =
  | { kind: 'entry'; line: number; value: unknown }
  | { kind: 'target'; line: number; target: ManifestTargetFields };
