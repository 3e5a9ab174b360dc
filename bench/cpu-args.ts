/**
 * What the one-process CPU scripts (cpu-ratio.ts, cpu-ab.ts, sharp-threads.ts) share: the workloads named by
 * their comma-separated first argument, the run count, and the median they report.
 */
import { workloads, type Workload } from './workloads.js';

/** The workloads `list` names and `runs` as a number; prints `usage` and exits 2 when an id is unknown, runs < 1 or `valid` is false. */
export function chosenWorkloads(list: string | undefined, runsArg: string | undefined, usage: string, valid = true): { chosen: Workload[]; runs: number } {
  const ids = (list ?? '').split(',').filter(Boolean);
  const runs = Number(runsArg);
  const chosen = workloads({ watermark: false }).filter((w) => ids.includes(w.id));
  if (chosen.length !== ids.length || !(runs >= 1) || !valid) {
    console.error(`usage: ${usage}; unknown among: ${ids.join(', ') || '(none)'}`);
    process.exit(2);
  }
  return { chosen, runs };
}

/** The middle sample (the upper one of an even count). */
export const median = (t: readonly number[]): number => [...t].sort((a, b) => a - b)[t.length >> 1]!;
