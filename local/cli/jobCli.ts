// `image-cleanup` — the operators' command (docs/operators.md): submit, status, report, list,
// cancel; `--help` on each. Run as `npx image-cleanup …` (the package's bin,
// local/cli/imageCleanupBin.js, runs this file on the project's Node 22 through tsx), as
// `npm run cli -- …`, or as `npm run job -- …` (the older name: `npm run job -- status <id> --watch`
// still works). The deployment is the environment's (the local stack's) or `--stack NAME`'s.
import { runOperatorCommand } from './operatorProgram.js';
import { terminalIo } from './operatorIo.js';

process.exitCode = await runOperatorCommand(process.argv.slice(2), terminalIo());
