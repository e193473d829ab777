import { readFileSync, writeFileSync } from 'node:fs';

/** A process's resident memory, KiB, from /proc/<pid>/status (Linux). */
export interface ProcessMemory {
  /** `VmHWM`: the peak resident set since the process started, or since {@link resetPeakMemory}. */
  peakKiB: number;
  /** `VmRSS`: the resident set now. */
  rssKiB: number;
}

/** The memory of process `pid`, or undefined when it has ended (or this is not Linux). */
export function processMemory(pid: number): ProcessMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const peak = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  // A process that has exited but is not reaped yet (a zombie) has no memory lines.
  return peak === undefined || rss === undefined ? undefined : { peakKiB: Number(peak), rssKiB: Number(rss) };
}

/**
 * Resets the peak of process `pid` to its resident set now (`echo 5 > /proc/<pid>/clear_refs`,
 * Linux 4.0+), so that a later `VmHWM` is the peak of what it did after. Returns false when it could not.
 */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
