import type { CleanupTarget } from '../modelarts/CleanupTarget.js';

/** One allowed target: a project, optionally narrowed to one labelling job or dataset. */
interface AllowRule {
  projectId: string;
  dataAnnotationId?: string;
  datasetId?: string;
}

/**
 * The targets a deployment may delete from, so a message cannot reach a project the deployment
 * was not meant for. Written as a comma-separated list (`ALLOWED_TARGETS`):
 * `<projectId>` allows the whole project; `<projectId>/<dataAnnotationId>` one v1 labelling job;
 * `<projectId>/dataset:<datasetId>` one v2 dataset. `*` allows everything (the local stack only).
 */
export class TargetAllowList {
  private constructor(private readonly rules: readonly AllowRule[] | 'any') {}

  /**
   * Parses the list.
   *
   * @throws {Error} naming the entry that is malformed.
   */
  public static parse(list: string): TargetAllowList {
    const entries = list.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    if (entries.length === 1 && entries[0] === '*') return new TargetAllowList('any');
    const segment = /^[A-Za-z0-9_-]{1,64}$/;
    return new TargetAllowList(
      entries.map((entry) => {
        const [projectId = '', narrow, ...rest] = entry.split('/');
        if (!segment.test(projectId) || rest.length > 0) throw new Error(`malformed allow-list entry "${entry}": expected projectId, projectId/dataAnnotationId or projectId/dataset:datasetId`);
        if (narrow === undefined) return { projectId };
        const datasetId = narrow.startsWith('dataset:') ? narrow.slice('dataset:'.length) : undefined;
        const id = datasetId ?? narrow;
        if (!segment.test(id)) throw new Error(`malformed allow-list entry "${entry}": bad labelling job or dataset id`);
        return datasetId !== undefined ? { projectId, datasetId } : { projectId, dataAnnotationId: id };
      }),
    );
  }

  /** Whether a job may delete from `target`. */
  public allows(target: CleanupTarget): boolean {
    if (this.rules === 'any') return true;
    return this.rules.some((rule) => {
      if (rule.projectId !== target.projectId) return false;
      if (rule.dataAnnotationId !== undefined) return target.api === 'v1' && target.dataAnnotationId === rule.dataAnnotationId;
      if (rule.datasetId !== undefined) return target.api === 'v2' && target.datasetId === rule.datasetId;
      return true;
    });
  }
}
