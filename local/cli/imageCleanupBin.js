#!/usr/bin/env node
// The `image-cleanup` bin of the package. `npx image-cleanup` may start it on the machine's own
// Node (20 here), while the project runs on the Node 22 it pins (the `node` dev dependency) and
// its commands are TypeScript: so this file stays plain JavaScript that any Node runs, and starts
// local/cli/jobCli.ts on that Node 22 with tsx, passing the arguments, the terminal and the exit
// code through. Ctrl-C reaches both processes (one process group): this one waits for the child.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pinned = `${root}node_modules/node/bin/node`;
const node = existsSync(pinned) ? pinned : process.execPath;
// tsx as the project resolves it (`--import tsx` alone would resolve from the caller's directory).
const tsx = pathToFileURL(createRequire(`${root}package.json`).resolve('tsx')).href;
const child = spawn(node, ['--disable-warning=ExperimentalWarning', '--import', tsx, `${root}local/cli/jobCli.ts`, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  process.stderr.write(`image-cleanup: cannot start ${node}: ${error.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal] ?? 0))));
