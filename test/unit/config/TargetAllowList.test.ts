import { describe, expect, it } from 'vitest';
import type { CleanupTarget } from '../../../lib/modelarts/CleanupTarget.js';
import { TargetAllowList } from '../../../lib/config/TargetAllowList.js';

const v1 = (projectId: string, dataAnnotationId: string): CleanupTarget => ({ api: 'v1', projectId, dataAnnotationId });
const v2 = (projectId: string, datasetId: string): CleanupTarget => ({ api: 'v2', projectId, datasetId, deleteSource: false });

describe('TargetAllowList', () => {
  it('allows a whole project, one labelling job, or one dataset', () => {
    const list = TargetAllowList.parse('projA, projB/282 ,projC/dataset:WxCREuCkBSAlQr9xrde');
    expect(list.allows(v1('projA', '1'))).toBe(true);
    expect(list.allows(v2('projA', 'x'))).toBe(true);
    expect(list.allows(v1('projB', '282'))).toBe(true);
    expect(list.allows(v1('projB', '283'))).toBe(false);
    expect(list.allows(v2('projB', '282'))).toBe(false);
    expect(list.allows(v2('projC', 'WxCREuCkBSAlQr9xrde'))).toBe(true);
    expect(list.allows(v1('projC', 'WxCREuCkBSAlQr9xrde'))).toBe(false);
    expect(list.allows(v1('projD', '1'))).toBe(false);
  });

  it('allows nothing when empty, everything with *', () => {
    expect(TargetAllowList.parse('').allows(v1('p', '1'))).toBe(false);
    expect(TargetAllowList.parse('*').allows(v1('p', '1'))).toBe(true);
  });

  it('names a malformed entry', () => {
    expect(() => TargetAllowList.parse('ok,bad/../x')).toThrow(/bad\/\.\.\/x/);
    expect(() => TargetAllowList.parse('p/dataset:')).toThrow(/malformed allow-list entry/);
    expect(() => TargetAllowList.parse('p/282+deleteSource')).toThrow(/\+deleteSource applies to v2 datasets only/);
    expect(() => TargetAllowList.parse('p+deletesource')).toThrow(/malformed allow-list entry "p\+deletesource"/);
  });
});

describe('TargetAllowList: deleteSource', () => {
  const deleting = (projectId: string, datasetId: string): CleanupTarget => ({ api: 'v2', projectId, datasetId, deleteSource: true });

  it('allows deleteSource: true only where an entry ends in +deleteSource: one dataset, a whole project, or *', () => {
    const list = TargetAllowList.parse('projA/dataset:ds1+deleteSource,projA/dataset:ds2,projB+deleteSource,projC');
    expect(list.allows(deleting('projA', 'ds1'))).toBe(true);
    expect(list.allows(v2('projA', 'ds1'))).toBe(true);
    expect(list.allows(deleting('projA', 'ds2'))).toBe(false);
    expect(list.allows(v2('projA', 'ds2'))).toBe(true);
    expect(list.allows(deleting('projB', 'any'))).toBe(true);
    expect(list.allows(v1('projB', '1'))).toBe(true);
    expect(list.allows(deleting('projC', 'x'))).toBe(false);
    expect(list.allows(v2('projC', 'x'))).toBe(true);
  });

  it('lets * allow every target but not deleteSource, and *+deleteSource both', () => {
    expect(TargetAllowList.parse('*').allows(deleting('p', 'd'))).toBe(false);
    expect(TargetAllowList.parse('*').allows(v2('p', 'd'))).toBe(true);
    expect(TargetAllowList.parse('*+deleteSource').allows(deleting('p', 'd'))).toBe(true);
    expect(TargetAllowList.parse('projA,*+deleteSource').allows(v1('q', '1'))).toBe(true);
  });
});
