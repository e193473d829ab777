import { Logger } from '@aws-lambda-powertools/logger';

/** A Powertools logger whose JSON lines are kept, to check what an operator would read. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = new Logger({ serviceName: 'image-cleanup-test', logLevel: 'INFO' });
  // Powertools writes through its console; catch the lines it prints.
  const print = (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>);
  Object.assign(logger as unknown as { console: unknown }, { console: { log: print, info: print, warn: print, error: print, debug: print, trace: print } });
  return { logger, lines };
}
