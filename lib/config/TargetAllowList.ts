import type { CleanupTarget } from '../modelarts/CleanupTarget.js';

/** One allowed target: a project (or any, `*`), optionally narrowed to one labelling job or dataset. */
interface AllowRule {
  /** `*`: any project (never a project ID: those are letters, digits, `-` and `_`). */
  projectId: string;
  dataAnnotationId?: string;
  datasetId?: string;
  /** The entry ends in `+deleteSource`: v2 jobs may also delete the source files in object storage. */
  deleteSource: boolean;
}

const DELETE_SOURCE = '+deleteSource';

/**
 * The targets a deployment may delete from, so a message cannot reach a project the deployment
 * was not meant for. Written as a comma-separated list (`ALLOWED_TARGETS`):
 * `<projectId>` allows the whole project; `<projectId>/<dataAnnotationId>` one v1 labelling job;
 * `<projectId>/dataset:<datasetId>` one v2 dataset. `*` allows everything (the local stack only).
 * `deleteSource: true` (which also deletes the images' files in object storage) is allowed only
 * by an entry that ends in `+deleteSource`: `<projectId>/dataset:<datasetId>+deleteSource`,
 * `<projectId>+deleteSource` (every dataset of the project) or `*+deleteSource`.
 */
export class TargetAllowList {
  private constructor(private readonly rules: readonly AllowRule[]) {}

  /**
   * Parses the list.
   *
   * @throws {Error} naming the entry that is malformed.
   */
  public static parse(list: string): TargetAllowList {
    const entries = list.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    const segment = /^[A-Za-z0-9_-]{1,64}$/;
    return new TargetAllowList(
      entries.map((entry): AllowRule => {
        const deleteSource = entry.endsWith(DELETE_SOURCE);
        const body = deleteSource ? entry.slice(0, -DELETE_SOURCE.length) : entry;
        if (body === '*') return { projectId: '*', deleteSource };
        const [projectId = '', narrow, ...rest] = body.split('/');
        if (!segment.test(projectId) || rest.length > 0) throw new Error(`malformed allow-list entry "${entry}": expected projectId, projectId/dataAnnotationId or projectId/dataset:datasetId, optionally ending in ${DELETE_SOURCE}, or *`);
        if (narrow === undefined) return { projectId, deleteSource };
        const datasetId = narrow.startsWith('dataset:') ? narrow.slice('dataset:'.length) : undefined;
        const id = datasetId ?? narrow;
        if (!segment.test(id)) throw new Error(`malformed allow-list entry "${entry}": bad labelling job or dataset id`);
        if (datasetId === undefined && deleteSource) throw new Error(`malformed allow-list entry "${entry}": ${DELETE_SOURCE} applies to v2 datasets only`);
        return datasetId !== undefined ? { projectId, datasetId, deleteSource } : { projectId, dataAnnotationId: id, deleteSource };
      }),
    );
  }

  /** Whether a job may delete from `target`: a v2 target with `deleteSource: true` needs an entry with `+deleteSource`. */
  public allows(target: CleanupTarget): boolean {
    return this.rules.some((rule) => {
      if (target.api === 'v2' && target.deleteSource && !rule.deleteSource) return false;
      if (rule.projectId === '*') return true;
      if (rule.projectId !== target.projectId) return false;
      if (rule.dataAnnotationId !== undefined) return target.api === 'v1' && target.dataAnnotationId === rule.dataAnnotationId;
      if (rule.datasetId !== undefined) return target.api === 'v2' && target.datasetId === rule.datasetId;
      return true;
    });
  }
}
