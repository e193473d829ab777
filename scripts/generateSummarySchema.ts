// `npm run schema`: publishes the JSON Schema of summary.json, generated from its zod schema.
import { writeFile } from 'node:fs/promises';
import { summaryJsonSchema } from './summaryJsonSchema.js';

const path = new URL('../schemas/summary.schema.json', import.meta.url);
await writeFile(path, `${JSON.stringify(summaryJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
