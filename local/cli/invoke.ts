// `npm run invoke -- <event.json>`: runs the handler the event is for, as Lambda would, against
// whatever the environment points at (`npm run stack` prints it); with none, on an embedded stack
// of its own. Prints the handler's answer and the reports written, as JSON.
import { readFile } from 'node:fs/promises';
import { invoke } from './invokeEvent.js';

const path = process.argv[2];
if (path === undefined) {
  console.error('usage: npm run invoke -- <event.json>');
  process.exit(2);
}
// Keep stdout for the answer: the handler's structured logs only for warnings and errors, no EMF lines.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const output = await invoke(JSON.parse(await readFile(path, 'utf8')));
console.log(JSON.stringify(output, null, 2));
