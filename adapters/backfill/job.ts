/**
 * A backfill job's state, checkpointed in a local folder (`.imgpipe-backfill/<job>/` under the
 * working directory) so `resume` after a crash, a SIGKILL or a closed laptop redoes only what has no
 * terminal record:
 *
 * - `tasks.jsonl`: the objects to process (missing and stale at planning time), one JSON line each,
 *   written and fsync'd before anything runs; like S3 Batch's manifest, the task list never changes;
 * - `job.json`: id, source, target, recipe and settings, written (and fsync'd) last, so a folder
 *   without it is a job that was never created;
 * - `records.jsonl`: append-only results (`Succeeded`, `PermanentFailure`, or `TemporaryFailure`
 *   after the last retry), FC submissions, pauses; every batch of lines is fsync'd before the job
 *   moves on. A torn last line (the process killed mid-write) is ignored on reading.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, truncate, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ImgpipeError, describeValue } from '../../src/errors.js';
import type { Recipe } from '../../src/recipe.js';
import type { ResultCode } from '../fc/batch.js';
import type { ObjectClass } from './plan.js';

export const JOB_FORMAT = 'imgpipe-backfill-job/1';

export interface JobConfig {
  readonly format: typeof JOB_FORMAT;
  readonly id: string;
  readonly createdAt: string;
  readonly source: { readonly bucket: string; readonly prefix: string };
  readonly target: string;
  readonly inventory?: string;
  readonly endpoint?: string;
  readonly ossRegion: string;
  readonly recipe: Recipe;
  readonly recipeHash: string;
  readonly manifestKey: string;
  readonly tasks: number;
  /** Objects per chunk (one FC invocation, or one unit of local work). */
  readonly chunk: number;
}

export interface Task {
  readonly i: number;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly class: ObjectClass;
}

export interface ResultRecord {
  readonly t: 'result';
  readonly i: number;
  readonly status: ResultCode;
  readonly code?: string;
  readonly message?: string;
  readonly outputs?: readonly string[];
  readonly at: string;
}
export interface SubmitRecord {
  readonly t: 'submit';
  readonly chunk: number;
  readonly round: number;
  readonly taskId: string;
  readonly at: string;
}
export interface PauseRecord {
  readonly t: 'paused';
  readonly reason: string;
  readonly at: string;
}
export type JobRecord = ResultRecord | SubmitRecord | PauseRecord;

/** Job ids become FC async task ids (`<job>-c<chunk>-r<round>`): a letter or `_` first, then `[A-Za-z0-9_-]`. */
export function checkJobId(id: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(id)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a job id of 1-64 letters, digits, '_' or '-' starting with a letter or '_' for --job but received ${describeValue(id)}`);
  }
}

export function newJobId(now = new Date()): string {
  return `bf-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
}

export function jobsRoot(cwd: string): string {
  return resolve(cwd, '.imgpipe-backfill');
}

async function writeDurable(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Create the job folder: the task list first, `job.json` last. Refuses an id that exists. */
export async function createJob(cwd: string, config: JobConfig, tasks: AsyncIterable<Task> | Iterable<Task>): Promise<Job> {
  const dir = join(jobsRoot(cwd), config.id);
  if (existsSync(join(dir, 'job.json'))) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Job ${describeValue(config.id)} already exists in ${dir}: continue it with \`imgpipe backfill resume ${config.id}\`, or pick another --job id`);
  }
  await mkdir(dir, { recursive: true });
  const fh = await open(join(dir, 'tasks.jsonl'), 'w');
  let n = 0;
  try {
    let buffer = '';
    for await (const t of tasks) {
      buffer += `${JSON.stringify(t)}\n`;
      n++;
      if (buffer.length > 1 << 20) {
        await fh.write(buffer);
        buffer = '';
      }
    }
    await fh.write(buffer);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await writeDurable(join(dir, 'records.jsonl'), '');
  await writeDurable(join(dir, 'job.json'), `${JSON.stringify({ ...config, tasks: n }, null, 2)}\n`);
  return openJob(cwd, config.id);
}

function parseLines<T>(text: string, where: string): T[] {
  const lines = text.split('\n');
  const out: T[] = [];
  for (const [n, line] of lines.entries()) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // Only the last line may be torn (killed mid-append); anything earlier is damage.
      if (n === lines.length - 1 || (n === lines.length - 2 && lines[lines.length - 1] === '')) break;
      throw new ImgpipeError('INVALID_ARGUMENT', `Job file ${where} line ${n + 1} is not JSON: the job folder is damaged; start a new job`);
    }
  }
  return out;
}

export interface Job {
  readonly dir: string;
  readonly config: JobConfig;
  readonly tasks: readonly Task[];
  readonly records: readonly JobRecord[];
  /** Terminal results by task index (the last one wins). */
  readonly results: ReadonlyMap<number, ResultRecord>;
  /** Append records and fsync them before resolving. */
  append(records: readonly JobRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** Open an existing job. Refuses a folder that is not this job's (copied or renamed from another). */
export async function openJob(cwd: string, id: string): Promise<Job> {
  checkJobId(id);
  const dir = join(jobsRoot(cwd), id);
  let configText: string;
  try {
    configText = await readFile(join(dir, 'job.json'), 'utf8');
  } catch {
    throw new ImgpipeError('NOT_FOUND', `No backfill job ${describeValue(id)} in ${jobsRoot(cwd)}: run \`imgpipe backfill run\` from the folder the job was started in, or check the id it printed`);
  }
  let config: JobConfig;
  try {
    config = JSON.parse(configText) as JobConfig;
  } catch {
    throw new ImgpipeError('INVALID_ARGUMENT', `${join(dir, 'job.json')} is not JSON: the job folder is damaged; start a new job`);
  }
  if (config.format !== JOB_FORMAT) {
    throw new ImgpipeError('INVALID_ARGUMENT', `${join(dir, 'job.json')} has format ${describeValue(config.format)}, expected ${describeValue(JOB_FORMAT)}: it was not written by this version of imgpipe backfill`);
  }
  if (config.id !== id) {
    throw new ImgpipeError('INVALID_ARGUMENT', `The folder ${dir} holds job ${describeValue(config.id)}, not ${describeValue(id)}: it was copied or renamed from another job; resume ${describeValue(config.id)} from its own folder, or start a new job`);
  }
  const tasks = parseLines<Task>(await readFile(join(dir, 'tasks.jsonl'), 'utf8'), join(dir, 'tasks.jsonl'));
  if (tasks.length !== config.tasks || tasks.some((t, i) => t.i !== i)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `${join(dir, 'tasks.jsonl')} holds ${tasks.length} tasks but job.json says ${config.tasks}: the task list belongs to another job or is damaged; start a new job`);
  }
  const recordsPath = join(dir, 'records.jsonl');
  let recordsText = await readFile(recordsPath, 'utf8').catch(() => '');
  if (recordsText !== '' && !recordsText.endsWith('\n')) {
    // A line torn by a kill mid-append: cut it off, or the next append would be glued to it.
    recordsText = recordsText.slice(0, recordsText.lastIndexOf('\n') + 1);
    await truncate(recordsPath, Buffer.byteLength(recordsText));
  }
  const records = parseLines<JobRecord>(recordsText, recordsPath);
  const results = new Map<number, ResultRecord>();
  for (const r of records) {
    if (r.t !== 'result') continue;
    if (!Number.isInteger(r.i) || r.i < 0 || r.i >= tasks.length) {
      throw new ImgpipeError('INVALID_ARGUMENT', `${recordsPath} has a result for task ${describeValue(r.i)}, but the job has ${tasks.length} tasks: the records belong to another job; start a new job`);
    }
    results.set(r.i, r);
  }
  let fh: FileHandle | undefined;
  return {
    dir,
    config,
    tasks,
    records,
    results,
    async append(list) {
      if (list.length === 0) return;
      for (const r of list) if (r.t === 'result') results.set(r.i, r);
      fh ??= await open(recordsPath, 'a');
      await fh.write(list.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await fh.datasync();
    },
    async close() {
      await fh?.close();
      fh = undefined;
    },
  };
}
