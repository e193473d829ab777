// `npm start`: the demo job on the embedded local stack. No AWS account, no network.
import { runDemo } from './runDemo.js';

// Keep the demo's output readable: the handler's structured logs only for warnings and errors.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// The EMF metric lines are for CloudWatch, not for a person at a terminal.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const { result, elapsedMs, problems, stack } = await runDemo();
try {
  if (result.status === 'completed') {
    const { counts, requests, retries } = result.summary;
    console.log(`image-cleanup demo: job ${result.jobId} on labelling job ${result.summary.target.projectId}/${'dataAnnotationId' in result.summary.target ? result.summary.target.dataAnnotationId : ''}`);
    console.log(`  received ${counts.received}: deleted ${counts.deleted}, already deleted ${counts.already_deleted}, failed ${counts.failed}, invalid ${counts.invalid}, duplicate ${counts.duplicate}`);
    console.log(`  ${requests} requests (${retries} retries) in ${elapsedMs} ms`);
    console.log(`  report: ${result.report.summary}`);
    console.log(`          ${result.report.failed}`);
    console.log(`          ${result.report.results}`);
  } else {
    console.log(`image-cleanup demo: job not completed: ${JSON.stringify(result.status === 'rejected' ? result.error : result)}`);
  }
  for (const problem of problems) console.error(`demo check failed: ${problem}`);
  if (problems.length === 0) console.log('  checked: counts add up, report in S3, emulator holds exactly the images not named');
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  await stack.stop();
}
