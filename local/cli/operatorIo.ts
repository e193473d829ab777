import { createInterface } from 'node:readline/promises';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * What the commands read and write, injected: stdout carries what a script reads (a job id, the
 * report, the list), stderr what a person reads while a command acts; the clock and sleep for
 * `--watch`. The commands never touch `process` themselves.
 */
export interface OperatorIo {
  out(line: string): void;
  err(line: string): void;
  /** Whether stdin is a terminal: only there is anyone to confirm a submit. */
  isTTY: boolean;
  /** Whether stdout is a terminal: `--watch` then redraws its lines in place instead of printing them again below. */
  redraw: boolean;
  /** Asks on the terminal and returns the answer. */
  ask(question: string): Promise<string>;
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The process's own terminal: stdout, stderr, stdin, the wall clock. */
export function terminalIo(): OperatorIo {
  return {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    isTTY: process.stdin.isTTY,
    redraw: process.stdout.isTTY,
    async ask(question) {
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await prompt.question(question);
      } finally {
        prompt.close();
      }
    },
    now: () => Date.now(),
    sleep: (ms) => delay(ms),
  };
}
