import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CleanupError, JobValidationError } from '../../lib/core/errors.js';
import { cancelJob } from './cancelJob.js';
import { EXIT, exitCodeOf, OPERATOR_STOP } from './exitCodes.js';
import { jobReport } from './jobReport.js';
import { jobStatus } from './jobStatus.js';
import { operatorEnvironment, type OperatorEnvironment, type WhereOptions } from './operatorEnvironment.js';
import type { OperatorIo } from './operatorIo.js';
import { recentJobs } from './recentJobs.js';
import { submitJob, type SubmitOptions } from './submitJob.js';

const EXIT_CODES_HELP = `
Exit codes:
  0  done (the job sent, or complete already; status, report or list printed)
  1  something unexpected (an AWS, S3 or SQS error)
  2  the command line is wrong, or no deployment is named; nothing sent
  3  the preparing pass or a guard rail refused the job; nothing sent, nothing deleted
  4  not confirmed (answered no, or stdin is no terminal and --yes was not given); nothing sent
  5  no such job
  6  cancel: the job had ended already; nothing changed

Where: --stack NAME (a stage on AWS, found by CloudFormation; the AWS SDK's credential chain), or
the environment (the local stack's: npm run --silent stack > .stack.env; set -a; . ./.stack.env; set +a).
Docs: docs/operators.md`;

const whole = (min: number, what: string) => (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected ${what}`);
  return n;
};
const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.1) throw new InvalidArgumentError('expected a number of seconds, at least 0.1');
  return n;
};

/**
 * The `image-cleanup` command (commander): `submit`, `status`, `report`, `list` and `cancel`, each
 * with its `--help`, and the global options naming the deployment. Runs `argv` (the arguments
 * after the command's name) and returns the exit code ({@link EXIT}); prints through `io` only.
 * `where` builds the deployment from the global options (injected for tests).
 */
export async function runOperatorCommand(argv: readonly string[], io: OperatorIo, where: (options: WhereOptions) => Promise<OperatorEnvironment> = operatorEnvironment): Promise<number> {
  let code: number = EXIT.ok;
  const withDeployment = (command: Command, act: (deployment: OperatorEnvironment) => Promise<number | void>) => async () => {
    const deployment = await where(command.optsWithGlobals<WhereOptions>());
    try {
      code = (await act(deployment)) ?? EXIT.ok;
    } finally {
      deployment.destroy();
    }
  };
  const program = new Command('image-cleanup')
    .description('Submit, watch and read image-cleanup jobs, on the local stack or a stage on AWS.')
    .option('--stack <name>', 'a deployed stage\'s CloudFormation stack, e.g. image-cleanup-dev (default: the environment)')
    .option('--region <region>', 'the AWS region (default: AWS_REGION)')
    .option('--report-bucket <name>', 'the report bucket (default: the stack\'s output, or REPORT_BUCKET)')
    .option('--manifest-bucket <name>', 'the manifest bucket (default: the stack\'s output, or MANIFEST_BUCKET)')
    .option('--queue-url <url>', 'the work queue (default: the stack\'s output, or WORK_QUEUE_URL)')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text.replace(/\n$/, '')), writeErr: (text) => io.err(text.replace(/\n$/, '')) });

  const submit: Command = program
    .command('submit')
    .summary('send a job: a manifest file, an s3:// manifest, or IDs')
    .description('Send a job after showing what its preparing pass says (entries, target, guard rails) and asking to confirm. The job id goes to stdout; everything else to stderr.')
    .argument('[manifest]', 'a local manifest file (any format: .txt, .csv, .json, .jsonl, .gz; uploaded to the manifest bucket\'s uploads/{jobId}/) or s3://bucket/key')
    .option('--ids <id...>', 'the image IDs inline instead of a manifest (space- or comma-separated)')
    .option('--target <target>', 'projectId/dataAnnotationId (v1) or projectId/dataset:datasetId (v2); optional when the manifest names it')
    .option('--delete-source', 'v2: delete the images\' source files too (where ALLOWED_TARGETS says +deleteSource)')
    .option('--job-id <id>', 'the job\'s id (default: cli-{time}-{random}); sending the same id again resumes or answers that job')
    .option('--dry-run', 'everything but the deletes: the report lists what would be deleted; needs no confirmation')
    .option('--confirm <n>', 'the number of entries, to run a job above MAX_IDS_PER_JOB', whole(1, 'the number of entries'))
    .option('--part-size <n>', 'split the manifest job into parts of n IDs over the work queue\'s workers', whole(1, 'a whole number of IDs above 0'))
    .addOption(new Option('--via <how>', 'queue: a message on the work queue; manual: the manual function').choices(['queue', 'manual']).default('queue'))
    .option('-y, --yes', 'send without asking (needed when stdin is no terminal)')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((manifest: string | undefined) => withDeployment(submit, async (deployment) => {
      const options = submit.opts<Omit<SubmitOptions, 'source'>>();
      const ids = options.ids?.flatMap((id) => id.split(',')).filter((id) => id !== '');
      await submitJob({ ...options, ...(ids === undefined ? {} : { ids }), ...(manifest === undefined ? {} : { source: manifest }) }, deployment, io);
    })());

  const status: Command = program
    .command('status')
    .summary('a job\'s progress: a bar with rate and time left, and the limiter')
    .argument('<job-id>', 'the job\'s id (submit prints it; list shows them)')
    .option('-w, --watch', 'print again every --interval seconds until the job ends (waits for a job not started yet)')
    .option('--interval <seconds>', 'seconds between two prints with --watch', seconds, 5)
    .option('--timeout <seconds>', 'stop watching after this long (the job goes on)', seconds, 3_600)
    .addHelpText('after', EXIT_CODES_HELP)
    .action((jobId: string) => withDeployment(status, async (deployment) => {
      const options = status.opts<{ watch?: boolean; interval: number; timeout: number }>();
      const until = io.now() + options.timeout * 1_000;
      let waiting = false;
      let shown = 0;
      for (;;) {
        try {
          const state = await jobStatus(jobId, deployment);
          // On a terminal the bar is redrawn where it stands (cursor up over the last print, clear below); elsewhere each print follows the last.
          io.out(shown > 0 && io.redraw ? `\x1b[${shown}F\x1b[J${state.text}` : `${shown > 0 ? '\n' : ''}${state.text}`);
          shown = state.text.split('\n').length;
          if (options.watch !== true || state.done) return;
        } catch (error) {
          if (!(options.watch === true && error instanceof CleanupError && error.code === OPERATOR_STOP.notFound)) throw error;
          if (!waiting) io.err(`job ${jobId} has not started yet: waiting for it`);
          waiting = true;
        }
        if (io.now() >= until) {
          io.err(`stopped watching after ${options.timeout} s; the job goes on`);
          return;
        }
        await io.sleep(options.interval * 1_000);
      }
    })());

  const report: Command = program
    .command('report')
    .summary('a finished job\'s summary in words, its top failure reasons, its files')
    .argument('<job-id>', 'the job\'s id')
    .option('--top <n>', 'how many failure reasons to show', whole(1, 'a whole number above 0'), 5)
    .addHelpText('after', EXIT_CODES_HELP)
    .action((jobId: string) => withDeployment(report, async (deployment) => {
      io.out(await jobReport(jobId, deployment, report.opts<{ top: number }>().top));
    })());

  const list: Command = program
    .command('list')
    .summary('recent jobs with their status')
    .option('--limit <n>', 'how many jobs to show, most recently active first', whole(1, 'a whole number above 0'), 20)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(() => withDeployment(list, async (deployment) => {
      io.out(await recentJobs(deployment, list.opts<{ limit: number }>().limit));
    })());

  const cancel: Command = program
    .command('cancel')
    .summary('stop a running job: no new delete after it is seen, the rest skipped (CANCELLED)')
    .description('Write the job\'s cancel request (cancel.json in its report folder). Every invocation and part running it looks for it every CANCEL_CHECK_MS (2 s): it then starts no new delete request, the requests in flight finish, and the entries not attempted end skipped (CANCELLED); the job ends cancelled. A job that ended already is left as it is (exit 6). A job not started yet is cancelled when it starts, before any delete.')
    .argument('<job-id>', 'the job\'s id')
    .option('--reason <text>', 'why, in your words: the summary\'s stop reason quotes it')
    .option('-w, --wait', 'then follow the job until it ends, as status --watch does')
    .option('--interval <seconds>', 'seconds between two looks with --wait', seconds, 2)
    .option('--timeout <seconds>', 'stop waiting after this long (the cancel stands)', seconds, 900)
    .addHelpText('after', EXIT_CODES_HELP)
    .action((jobId: string) => withDeployment(cancel, async (deployment) => {
      const options = cancel.opts<{ reason?: string; wait?: boolean; interval: number; timeout: number }>();
      const outcome = await cancelJob(jobId, deployment, { ...(options.reason === undefined ? {} : { reason: options.reason }), now: io.now() });
      io.out(outcome.text);
      if (outcome.kind === 'ended') return EXIT.ended;
      if (options.wait !== true) return EXIT.ok;
      const until = io.now() + options.timeout * 1_000;
      for (;;) {
        const state = await jobStatus(jobId, deployment).catch((error: unknown) => {
          if (error instanceof CleanupError && error.code === OPERATOR_STOP.notFound) return undefined;
          throw error;
        });
        if (state?.done === true) {
          io.out(state.text);
          return EXIT.ok;
        }
        if (io.now() >= until) {
          io.err(`stopped waiting after ${options.timeout} s; the cancel stands and the job stops when it sees it`);
          return EXIT.ok;
        }
        await io.sleep(options.interval * 1_000);
      }
    })());

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof JobValidationError) {
      io.err(`image-cleanup: refused, nothing sent: ${error.message}`);
      if (error.issues.some((issue) => issue.path === 'options.confirmEntries')) io.err('(submit it again with --confirm and that number)');
    } else {
      io.err(`image-cleanup: ${error instanceof Error ? error.message : String(error)}`);
    }
    return exitCodeOf(error);
  }
}
