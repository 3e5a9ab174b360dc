/**
 * Runs a job's tasks through an executor (this machine's worker pool, or Function Compute), chunk by
 * chunk, recording every terminal result before moving on. S3 Batch Operations' rules, kept:
 *
 * - a **pilot** (the first chunks, at least `pilot` tasks) runs alone first; if more than
 *   `pilotFailureRate` of it fails, the job pauses before spending anything on the rest;
 * - a **circuit breaker** pauses the job once `breakerMinTasks` tasks are done and more than
 *   `breakerFailureRate` of them failed (S3 Batch: 50% after 1,000);
 * - `TemporaryFailure` tasks are retried up to `retries` more rounds, then recorded as failed;
 * - chunks are fixed slices of the task list (chunk c = tasks c*N..c*N+N-1), so an FC task id
 *   `<job>-c<c>-r<round>` names the same objects on every resume.
 */
import type { ResultCode } from '../fc/batch.js';
import type { Job, JobRecord, ResultRecord, Task } from './job.js';

export interface ChunkResult {
  readonly i: number;
  readonly status: ResultCode;
  readonly code?: string;
  readonly message?: string;
  readonly outputs?: readonly string[];
}

export interface Executor {
  /** Run one chunk's pending tasks (round 0 is the first try). Resolves one result per task, never rejects for a task's failure. */
  run(chunk: number, round: number, tasks: readonly Task[], job: Job): Promise<readonly ChunkResult[]>;
  close?(): Promise<void>;
}

export interface RunOptions {
  /** Chunks in flight at once (default 2). */
  readonly concurrency?: number;
  readonly retries?: number;
  readonly pilot?: number;
  readonly pilotFailureRate?: number;
  readonly breakerMinTasks?: number;
  readonly breakerFailureRate?: number;
  /** Called after each chunk with the job's totals. */
  readonly onProgress?: (p: Progress) => void;
}

export interface Progress {
  readonly total: number;
  readonly done: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Tasks finished in this process (for the rate). */
  readonly doneHere: number;
  readonly elapsedMs: number;
}

export interface RunOutcome {
  readonly status: 'completed' | 'paused';
  readonly reason?: string;
  readonly progress: Progress;
}

export async function runJob(job: Job, executor: Executor, options: RunOptions = {}): Promise<RunOutcome> {
  const started = performance.now();
  const n = job.config.chunk;
  const concurrency = options.concurrency ?? 2;
  const retries = options.retries ?? 3;
  const pilot = options.pilot ?? 50;
  const pilotRate = options.pilotFailureRate ?? 0.5;
  const minTasks = options.breakerMinTasks ?? 1000;
  const breakerRate = options.breakerFailureRate ?? 0.5;
  let doneHere = 0;

  const totals = (): Progress => {
    let succeeded = 0;
    let failed = 0;
    for (const r of job.results.values()) {
      if (r.status === 'Succeeded') succeeded++;
      else failed++;
    }
    return { total: job.tasks.length, done: succeeded + failed, succeeded, failed, doneHere, elapsedMs: performance.now() - started };
  };

  // The round each chunk is at: resumed from its last FC submission, so a resubmission reuses that task id.
  const roundOf = new Map<number, number>();
  for (const r of job.records) if (r.t === 'submit') roundOf.set(r.chunk, Math.max(roundOf.get(r.chunk) ?? 0, r.round));

  const pendingOf = (c: number): Task[] => job.tasks.slice(c * n, c * n + n).filter((t) => !job.results.has(t.i));
  const chunks = Array.from({ length: Math.ceil(job.tasks.length / n) }, (_, c) => c).filter((c) => pendingOf(c).length > 0);

  let paused: string | undefined;
  const breaker = (): string | undefined => {
    const p = totals();
    if (p.done >= minTasks && p.failed / p.done > breakerRate) {
      return `circuit breaker: ${p.failed} of ${p.done} tasks failed (more than ${Math.round(breakerRate * 100)}% after at least ${minTasks})`;
    }
    return undefined;
  };

  /** One chunk through all its rounds. Temporary failures are retried; the last round records them. */
  const runChunk = async (c: number): Promise<void> => {
    let round = roundOf.get(c) ?? 0;
    for (;;) {
      const tasks = pendingOf(c);
      if (tasks.length === 0 || paused !== undefined) return;
      const results = await executor.run(c, round, tasks, job);
      const last = round >= (roundOf.get(c) ?? 0) + retries;
      const at = new Date().toISOString();
      const records: JobRecord[] = [];
      for (const r of results) {
        if (r.status === 'TemporaryFailure' && !last) continue;
        records.push({ t: 'result', i: r.i, status: r.status, code: r.code, message: r.message, outputs: r.outputs, at } satisfies ResultRecord);
      }
      await job.append(records);
      doneHere += records.length;
      options.onProgress?.(totals());
      if (records.length === results.length) return;
      round++;
    }
  };

  const runAll = async (list: readonly number[]): Promise<void> => {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, async () => {
      while (next < list.length && paused === undefined) {
        await runChunk(list[next++]);
        paused ??= breaker();
      }
    }));
  };

  // The pilot: whole chunks until at least `pilot` tasks, run before anything else.
  let pilotTasks = 0;
  let k = 0;
  while (k < chunks.length && pilotTasks < pilot) pilotTasks += pendingOf(chunks[k++]).length;
  const pilotChunks = chunks.slice(0, k);
  const pilotIndexes = new Set(pilotChunks.flatMap((c) => pendingOf(c).map((t) => t.i)));
  await runAll(pilotChunks);
  if (paused === undefined && pilotIndexes.size > 0) {
    const failed = [...pilotIndexes].filter((i) => job.results.get(i)?.status !== 'Succeeded').length;
    if (failed / pilotIndexes.size > pilotRate) {
      paused = `pilot: ${failed} of ${pilotIndexes.size} tasks failed (more than ${Math.round(pilotRate * 100)}%); see \`imgpipe backfill report ${job.config.id}\``;
    }
  }
  if (paused === undefined) await runAll(chunks.slice(k));
  if (paused !== undefined) {
    await job.append([{ t: 'paused', reason: paused, at: new Date().toISOString() }]);
    return { status: 'paused', reason: paused, progress: totals() };
  }
  return { status: 'completed', progress: totals() };
}
