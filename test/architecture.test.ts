import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The structure rules of docs/architecture.md that no linter checks: file size, a test for every
// file of lib/, and the README's length. (Import rules: dependency-cruiser, in npm test.)
const root = join(import.meta.dirname, '..');
const architecture = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
const MAX_LINES = 250;
// The one file allowed over the bound, and why: docs/architecture.md "Size".
const SINGLE_IDEAS = new Set(['lib/modelarts/adaptiveLimiter.ts']);

function files(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const libFiles = files('lib');
const lines = (path: string): number => readFileSync(join(root, path), 'utf8').split('\n').length - 1;

// Rows of the "Where each file is tested" table: `lib/…` → the tests named in the row.
function coveredBy(): Map<string, string[]> {
  const table = /<!-- covered:begin -->([\s\S]*?)<!-- covered:end -->/.exec(architecture)?.[1] ?? '';
  const rows = new Map<string, string[]>();
  for (const match of table.matchAll(/^\|\s*`(lib\/[^`]+)`\s*\|(.*)\|\s*$/gm)) {
    rows.set(match[1]!, [...match[2]!.matchAll(/`(test\/[^`]+)`/g)].map((test) => test[1]!));
  }
  return rows;
}

describe('the structure of lib/', () => {
  it('finds the files it checks', () => {
    expect(libFiles.length).toBeGreaterThan(60);
  });

  it(`has no file over ${MAX_LINES} lines but the single idea named in docs/architecture.md`, () => {
    const long = libFiles.filter((path) => lines(path) > MAX_LINES && !SINGLE_IDEAS.has(path));
    expect(long).toEqual([]);
    for (const path of SINGLE_IDEAS) expect(architecture).toContain(path);
  });

  it('gives every file its mirrored unit test, or names the test that covers it', () => {
    const covered = coveredBy();
    const untested = libFiles.filter((path) => !existsSync(join(root, path.replace(/^lib\//, 'test/unit/').replace(/\.ts$/, '.test.ts'))) && !covered.has(path));
    expect(untested).toEqual([]);
  });

  it('names only tests and files that exist in its coverage table', () => {
    const covered = coveredBy();
    expect(covered.size).toBeGreaterThan(0);
    for (const [path, tests] of covered) {
      expect(existsSync(join(root, path)), path).toBe(true);
      // A file of types alone is checked by the type check; any other row names its tests.
      const typesOnly = readFileSync(join(root, path), 'utf8').split('\n').every((line) => !/^export (async )?(function|const|class)/.test(line));
      expect(tests.length > 0 || typesOnly, `${path}: no test named`).toBe(true);
      for (const test of tests) expect(existsSync(join(root, test)), `${path}: ${test}`).toBe(true);
    }
  });
});

describe('the README', () => {
  it(`is the front door: at most ${MAX_LINES} lines, with the two-line quick start`, () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(lines('README.md')).toBeLessThanOrEqual(MAX_LINES);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });

  it('links only to files that exist', () => {
    const broken: string[] = [];
    for (const doc of ['README.md', ...readdirSync(join(root, 'docs')).map((name) => `docs/${name}`)]) {
      const text = readFileSync(join(root, doc), 'utf8');
      for (const link of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = link[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const path = join(root, doc, '..', target);
        if (!existsSync(path)) broken.push(`${doc} → ${relative(root, path)}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
