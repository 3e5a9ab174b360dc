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
  const concurrency = options.concurrency ?? 2;
  const retries = options.retries ?? 3;
  const pilot = options.pilot ?? 50;
  const pilotRate = options.pilotFailureRate ?? 0.5;
  const minTasks = options.breakerMinTasks ?? 1000;
  const breakerRate = options.breakerFailureRate ?? 0.5;
  let doneHere = 0;

  const totals = (): Progress => {
    const { succeeded, failed } = job.counts;
    return { total: job.config.tasks, done: succeeded + failed, succeeded, failed, doneHere, elapsedMs: performance.now() - started };
  };

  let paused: string | undefined;
  const breaker = (): string | undefined => {
    const p = totals();
    if (p.done >= minTasks && p.failed / p.done > breakerRate) {
      return `circuit breaker: ${p.failed} of ${p.done} tasks failed (more than ${Math.round(breakerRate * 100)}% after at least ${minTasks})`;
    }
    return undefined;
  };

  /** One chunk through all its rounds. Temporary failures are retried; the last round records them. */
  const runChunk = async (c: number, all: readonly Task[]): Promise<void> => {
    // The round each chunk is at: resumed from its last FC submission, so a resubmission reuses that task id.
    const first = job.roundOf(c);
    let round = first;
    for (;;) {
      const tasks = all.filter((t) => !job.isDone(t.i));
      if (tasks.length === 0 || paused !== undefined) return;
      const results = await executor.run(c, round, tasks, job);
      const last = round >= first + retries;
      const at = new Date().toISOString();
      const byIndex = new Map(tasks.map((t) => [t.i, t]));
      const records: JobRecord[] = [];
      for (const r of results) {
        if (r.status === 'TemporaryFailure' && !last) continue;
        const t = byIndex.get(r.i)!;
        records.push({ t: 'result', i: r.i, bucket: t.bucket, key: t.key, etag: t.etag, status: r.status, code: r.code, message: r.message, outputs: r.outputs, at } satisfies ResultRecord);
      }
      await job.append(records);
      doneHere += records.length;
      options.onProgress?.(totals());
      if (records.length === results.length) return;
      round++;
    }
  };

  // Chunks with work left, read from the task list as the workers ask for them (never all at once).
  const source = job.chunks();
  const pending = async (): Promise<{ chunk: number; tasks: readonly Task[] } | undefined> => {
    for (;;) {
      const next = await source.next();
      if (next.done) return undefined;
      const tasks = next.value.tasks.filter((t) => !job.isDone(t.i));
      if (tasks.length > 0) return { chunk: next.value.chunk, tasks };
    }
  };

  /** Workers pull chunks until `take` says stop (the pilot's quota) or the job pauses. */
  const runWorkers = async (take: (tasks: readonly Task[]) => boolean): Promise<void> => {
    let stop = false;
    let reading: Promise<unknown> = Promise.resolve();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (;;) {
        if (stop || paused !== undefined) return;
        // One reader at a time: the task list is one sequential stream.
        const got = (reading = reading.then(() => (stop || paused !== undefined ? undefined : pending()))) as Promise<Awaited<ReturnType<typeof pending>>>;
        const c = await got;
        if (c === undefined) {
          stop = true;
          return;
        }
        if (!take(c.tasks)) stop = true;
        await runChunk(c.chunk, c.tasks);
        paused ??= breaker();
      }
    }));
  };

  // The pilot: whole chunks until at least `pilot` tasks, run before anything else.
  const pilotTasks: Task[] = [];
  try {
    if (pilot > 0) await runWorkers((tasks) => (pilotTasks.push(...tasks), pilotTasks.length < pilot));
    if (paused === undefined && pilotTasks.length > 0) {
      const failed = pilotTasks.filter((t) => !job.succeeded(t.i)).length;
      if (failed / pilotTasks.length > pilotRate) {
        paused = `pilot: ${failed} of ${pilotTasks.length} tasks failed (more than ${Math.round(pilotRate * 100)}%); see \`imgpipe backfill report ${job.config.id}\``;
      }
    }
    if (paused === undefined) await runWorkers(() => true);
  } finally {
    await source.return(undefined);
  }
  if (paused !== undefined) {
    await job.append([{ t: 'paused', reason: paused, at: new Date().toISOString() }]);
    return { status: 'paused', reason: paused, progress: totals() };
  }
  return { status: 'completed', progress: totals() };
}
