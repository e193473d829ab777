import { Logger } from '@aws-lambda-powertools/logger';

/**
 * A Powertools logger whose JSON lines are kept, to check what an operator would read. Its children
 * (a job's logger with its `jobId`: lib/job/prepareJob.ts) write to the same lines.
 */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  // Powertools writes through its console; catch the lines it prints.
  const print = (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>);
  const capture = (logger: Logger): Logger => {
    Object.assign(logger as unknown as { console: unknown }, { console: { log: print, info: print, warn: print, error: print, debug: print, trace: print } });
    const createChild = logger.createChild.bind(logger);
    logger.createChild = (options) => capture(createChild(options));
    return logger;
  };
  return { logger: capture(new Logger({ serviceName: 'image-cleanup-test', logLevel: 'INFO' })), lines };
}
