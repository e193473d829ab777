// The schema moved to lib/report/ so an unsplit job (lib/job/, a lower layer) writes the same file.
export { jobProgressSchema, type JobProgress } from '../report/jobProgressSchema.js';
