/**
 * Run with `node --expose-gc`: creates a job of N generated tasks the way `run` does (the plan's
 * objects streamed into the task list), runs it with an executor that answers at once, and writes
 * its report, while a timer samples the heap after a full collection. Prints one JSON line: the
 * peak heap above the baseline, and the sizes of the task list and report it went through.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RECIPE } from '../../../src/recipe.js';
import { createJob, JOB_FORMAT, localJobStore } from '../../../adapters/backfill/job.js';
import { writeReport } from '../../../adapters/backfill/report.js';
import { runJob, type Executor } from '../../../adapters/backfill/run.js';

const n = Number(process.argv[2]);
const gc = (globalThis as { gc?: () => void }).gc!;
const cwd = await mkdtemp(join(tmpdir(), 'imgpipe-job-memory-'));
gc();
const baseline = process.memoryUsage().heapUsed;
let peak = 0;
let inFlight = 0;
let maxInFlight = 0;
const sample = () => {
  gc();
  peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
};
const timer = setInterval(sample, 50);
try {
  const store = localJobStore(cwd, 'memory');
  const config = {
    format: JOB_FORMAT, id: 'memory', createdAt: new Date().toISOString(), source: { bucket: 'photos', prefix: 'uploads/' }, target: 'out',
    ossRegion: 'cn-hangzhou', recipe: DEFAULT_RECIPE, recipeHash: 'x', manifestKey: 'meta/{name}.json', chunk: 500,
  } as const;
  const job = await createJob(store, config, async (add) => {
    for (let i = 0; i < n; i++) {
      // Keys as long as a real bucket's (about 90 characters), so holding them would show.
      const wait = add({ bucket: 'photos', key: `uploads/${String(i % 997).padStart(4, '0')}/camera-roll/2026-12-05/IMG_${String(i).padStart(9, '0')}-original.jpg`, etag: i.toString(16).toUpperCase().padStart(32, '0'), size: 1000 + i, class: 'missing' });
      if (wait) await wait;
      if (i % 50_000 === 0) await new Promise((r) => setImmediate(r));
    }
  });
  const executor: Executor = {
    async run(_chunk, _round, tasks) {
      inFlight += tasks.length;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight -= tasks.length;
      return tasks.map((t) => (t.i % 1000 === 7 ? { i: t.i, status: 'PermanentFailure' as const, code: 'CORRUPT_IMAGE', message: 'bad' } : { i: t.i, status: 'Succeeded' as const, outputs: [`large/${t.key}`] }));
    },
  };
  const outcome = await runJob(job, executor, { concurrency: 2, pilot: 50 });
  await job.close();
  const report = await writeReport(job);
  sample();
  const size = async (p: string) => (await stat(join(job.dir, p))).size;
  process.stdout.write(`${JSON.stringify({
    tasks: job.config.tasks, status: outcome.status, succeeded: outcome.progress.succeeded, failed: outcome.progress.failed,
    reportCounts: report.counts, peakHeapBytes: peak, maxTasksInFlight: maxInFlight,
    taskListBytes: await size('tasks.jsonl'), recordsBytes: await size('records.jsonl'), reportBytes: await size('report/succeeded.csv'),
  })}\n`);
} finally {
  clearInterval(timer);
  await rm(cwd, { recursive: true, force: true });
}
