// The import rules of the project, checked by `npm run lint:deps` (part of `npm test`).
// The layers of lib/ are read from the table in docs/architecture.md, so the table a reader sees
// is the one enforced: a folder may import its own layer and the layers below it, never above.
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const doc = readFileSync(join(__dirname, 'docs/architecture.md'), 'utf8');
const table = /<!-- layers:begin[^>]*-->([\s\S]*?)<!-- layers:end -->/.exec(doc);
if (table === null) throw new Error('docs/architecture.md: no layers table between <!-- layers:begin --> and <!-- layers:end -->');
const layers = [...table[1].matchAll(/^\|\s*(\d+)\s*\|\s*`lib\/([a-z]+)\/`\s*\|/gm)].map((row) => ({ rank: Number(row[1]), folder: row[2] }));
const folders = readdirSync(join(__dirname, 'lib'), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
const missing = folders.filter((folder) => !layers.some((layer) => layer.folder === folder));
if (layers.length === 0 || missing.length > 0) throw new Error(`docs/architecture.md: the layers table must name every folder of lib/; missing: ${missing.join(', ') || 'all'}`);
const loose = readdirSync(join(__dirname, 'lib')).filter((name) => name.endsWith('.ts'));
if (loose.length > 0) throw new Error(`lib/ holds files outside a layer folder: ${loose.join(', ')}`);

const above = (rank) => layers.filter((layer) => layer.rank > rank).map((layer) => layer.folder);
const upwards = layers
  .filter((layer) => above(layer.rank).length > 0)
  .map((layer) => ({
    name: `lib-${layer.folder}-imports-upwards`,
    comment: `lib/${layer.folder}/ is layer ${layer.rank} of docs/architecture.md: it may not import ${above(layer.rank).map((f) => `lib/${f}/`).join(', ')}`,
    severity: 'error',
    from: { path: `^lib/${layer.folder}/` },
    to: { path: `^lib/(${above(layer.rank).join('|')})/` },
  }));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'an import circle: split out what both sides need', severity: 'error', from: {}, to: { circular: true } },
    ...upwards,
    {
      name: 'lib-imports-outside-lib',
      comment: 'lib/ is the product: it never imports the local stack, benchmarks, tests or handlers',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(local|bench|test|handlers|scripts)/' },
    },
    {
      name: 'handlers-are-wiring',
      comment: 'a handler builds its deps and calls one trigger adapter: it imports lib/deps/, lib/triggers/ and lib/config/ only',
      severity: 'error',
      from: { path: '^handlers/' },
      to: { path: '^lib/', pathNot: '^lib/(deps|triggers|config)/' },
    },
    {
      name: 'emulator-is-independent',
      comment: 'the ModelArts emulator is written from the docs, apart from lib/, so a bug cannot hide in both',
      severity: 'error',
      from: { path: '^local/emulator/' },
      to: { path: '^(lib|handlers|local/stack|local/cli)/' },
    },
    {
      name: 'local-stack-below-cli',
      comment: 'local/stack/ starts servers; the commands in local/cli/ use it, not the other way round',
      severity: 'error',
      from: { path: '^local/stack/' },
      to: { path: '^local/cli/' },
    },
    {
      name: 'only-tests-import-tests',
      comment: 'test/support/ is for tests; nothing else depends on it',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-orphans',
      comment: 'a module nothing imports is dead code (entry points are listed here)',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          '(^|/)\\.[^/]+\\.(c?js|json)$',
          '\\.d\\.ts$',
          '(^|/)(tsconfig|vitest\\.config|eslint\\.config|knip\\.config)\\.',
          '^handlers/',
          '^local/cli/(demo|stackCli|invoke|jobCli)\\.ts$',
          '^local/emulator/emulatorProcess\\.ts$',
          '^local/stack/queueWorkerProcess\\.ts$',
          '^bench/[^/]+\\.(ts|cjs)$',
          '^scripts/',
          '\\.test\\.ts$',
        ],
      },
      to: {},
    },
    { name: 'not-to-unresolvable', comment: 'an import that resolves to nothing (aws-lambda is a types-only package, @types/aws-lambda, imported with import type)', severity: 'error', from: {}, to: { couldNotResolve: true, pathNot: '^aws-lambda$' } },
    { name: 'not-to-dev-dep', comment: 'lib/ and handlers/ run in Lambda: what they import must be a dependency, not a devDependency', severity: 'error', from: { path: '^(lib|handlers)/' }, to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: the circle this config was written against ran through a type.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'] },
    exclude: { path: ['^\\.serverless', '^bench/results'] },
  },
};
