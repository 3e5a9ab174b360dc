/**
 * A backfill job's state, checkpointed so `resume` after a crash, a SIGKILL or a closed laptop redoes
 * only what has no terminal record. It lives in a job store: a local folder
 * (`.imgpipe-backfill/<job>/` under the working directory, below) or objects under
 * `_backfill/<job>/` in the target bucket (`job-bucket.ts`). Either way it is three things:
 *
 * - the task list (`tasks.jsonl`): the objects to process (missing and stale at planning time), one
 *   JSON line each, appended while the plan classifies and made durable before anything runs; like
 *   S3 Batch's manifest, it never changes afterwards;
 * - `job.json`: id, source, target, recipe, settings and the number of tasks, written last, so a job
 *   without it was never created;
 * - the records (`records.jsonl`): append-only results (`Succeeded`, `PermanentFailure`, or
 *   `TemporaryFailure` after the last retry), FC submissions, pauses; every batch is durable before
 *   the job moves on. A torn last line (the process killed mid-write) is cut off on opening.
 *
 * Nothing here holds the task list: a job of 10 M objects is read a chunk at a time, and what stays
 * in memory is one status byte per task and one round counter per chunk (about 12 MB for 10 M).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, truncate, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ImgpipeError, describeValue } from '../../src/index.js';
import type { Recipe } from '../../src/index.js';
import type { ResultCode } from '../fc/batch.js';
import type { ObjectClass } from './plan.js';

export const JOB_FORMAT = 'imgpipe-backfill-job/2';

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
  /** Where the state lives: `local` (a folder) or `bucket` (`_backfill/<job>/` in the target). */
  readonly state?: 'local' | 'bucket';
  /** The bucket store's id of the task list's parts (set by that store). */
  readonly stateRun?: string;
}

export interface Task {
  readonly i: number;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly class: ObjectClass;
}

/** A result names its object, so the report is written from the records alone, streamed. */
export interface ResultRecord {
  readonly t: 'result';
  readonly i: number;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
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

/** Text appended in pieces and made durable on `close` (a task list, a report file). */
export interface TextSink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where a job's state lives. Reads hand over complete lines a batch at a time; `readRecords` cuts
 * off a torn last line so the next append starts on a fresh one.
 */
export interface JobStore {
  /** For messages: a folder, or `oss://bucket/_backfill/<job>/`. */
  readonly where: string;
  readConfig(): Promise<string | undefined>;
  writeConfig(text: string): Promise<void>;
  createTasks(): Promise<TextSink>;
  readTasks(): AsyncGenerator<string[]>;
  readRecords(): AsyncGenerator<string[]>;
  appendRecords(text: string): Promise<void>;
  /** A report file (`report/<name>`); `location` is what the report's manifest and summary name. */
  createReportFile(name: string): Promise<TextSink>;
  readonly reportLocation: string;
  close(): Promise<void>;
}

/** Complete lines of a file, a megabyte at a time; `tail` receives what follows the last newline. */
async function* fileLines(path: string, tail?: (rest: string, size: number) => void): AsyncGenerator<string[]> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const decoder = new TextDecoder();
    let rest = '';
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const lines = (rest + decoder.decode(buf.subarray(0, bytesRead), { stream: true })).split('\n');
      rest = lines.pop()!;
      if (lines.length > 0) yield lines;
    }
    rest += decoder.decode();
    tail?.(rest, pos);
  } finally {
    await fh.close();
  }
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

async function fileSink(path: string): Promise<TextSink> {
  const fh = await open(path, 'w');
  return {
    async write(text) {
      await fh.write(text);
    },
    async close() {
      await fh.sync();
      await fh.close();
    },
  };
}

/** The local folder `.imgpipe-backfill/<job>/`. */
export function localJobStore(cwd: string, id: string): JobStore {
  const dir = join(jobsRoot(cwd), id);
  const recordsPath = join(dir, 'records.jsonl');
  let fh: FileHandle | undefined;
  return {
    where: dir,
    reportLocation: join(dir, 'report'),
    async readConfig() {
      return readFile(join(dir, 'job.json'), 'utf8').catch(() => undefined);
    },
    async writeConfig(text) {
      await writeDurable(join(dir, 'job.json'), text);
    },
    async createTasks() {
      await mkdir(dir, { recursive: true });
      await writeDurable(recordsPath, '');
      return fileSink(join(dir, 'tasks.jsonl'));
    },
    readTasks: () => fileLines(join(dir, 'tasks.jsonl')),
    async *readRecords() {
      let torn: { rest: string; size: number } | undefined;
      yield* fileLines(recordsPath, (rest, size) => { if (rest !== '') torn = { rest, size }; });
      // A line torn by a kill mid-append: cut off, or the next append would be glued to it.
      if (torn) await truncate(recordsPath, torn.size - Buffer.byteLength(torn.rest));
    },
    async appendRecords(text) {
      fh ??= await open(recordsPath, 'a');
      await fh.write(text);
      await fh.datasync();
    },
    async createReportFile(name) {
      await mkdir(join(dir, 'report'), { recursive: true });
      return fileSink(join(dir, 'report', name));
    },
    async close() {
      await fh?.close();
      fh = undefined;
    },
  };
}

const damaged = (store: JobStore, what: string) =>
  new ImgpipeError('INVALID_ARGUMENT', `Job ${store.where}: ${what}: the job state is damaged or belongs to another job; start a new job`);

/** Task statuses kept per task: none yet, succeeded, failed (either failure code). */
const NONE = 0;
const SUCCEEDED = 1;
const FAILED = 2;

export interface Job {
  /** Where the state lives (a folder or an oss:// prefix), for messages. */
  readonly dir: string;
  readonly store: JobStore;
  readonly config: JobConfig;
  /** Whether task i has a terminal result. */
  isDone(i: number): boolean;
  succeeded(i: number): boolean;
  readonly counts: { readonly succeeded: number; readonly failed: number };
  /** The last round submitted to FC for a chunk (0 if none). */
  roundOf(chunk: number): number;
  /** The task list, a chunk (`config.chunk` tasks, in task order) at a time. */
  chunks(): AsyncGenerator<{ readonly chunk: number; readonly tasks: readonly Task[] }>;
  /** Every record, in the order written, a batch at a time. */
  records(): AsyncGenerator<JobRecord[]>;
  /** Append records and make them durable before resolving. A second result for a finished task is dropped. */
  append(records: readonly JobRecord[]): Promise<void>;
  close(): Promise<void>;
}

function parseLine<T>(line: string, store: JobStore, what: string, n: number): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw damaged(store, `${what} line ${n} is not JSON`);
  }
}

/**
 * Create a job: the task list is written while `fill` runs (the plan, streaming its missing and
 * stale objects into `add`), `job.json` last. Refuses an id that exists.
 */
export async function createJob(
  store: JobStore,
  config: Omit<JobConfig, 'tasks'>,
  fill: (add: (t: Omit<Task, 'i'>) => Promise<void> | undefined) => Promise<void>,
): Promise<Job> {
  if ((await store.readConfig()) !== undefined) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Job ${describeValue(config.id)} already exists in ${store.where}: continue it with \`imgpipe backfill resume ${config.id}\`, or pick another --job id`);
  }
  const sink = await store.createTasks();
  let n = 0;
  let buffer = '';
  try {
    await fill((t) => {
      buffer += `${JSON.stringify({ i: n++, ...t })}\n`;
      if (buffer.length < 1 << 20) return undefined;
      const text = buffer;
      buffer = '';
      // The plan waits for this before reading on: the buffer never outgrows a megabyte or two.
      return sink.write(text);
    });
    await sink.write(buffer);
  } finally {
    await sink.close();
  }
  await store.writeConfig(`${JSON.stringify({ ...config, tasks: n }, null, 2)}\n`);
  return openJob(store, config.id);
}

/** Open an existing job. Refuses state that is not this job's (copied or renamed from another). */
export async function openJob(store: JobStore, id: string): Promise<Job> {
  checkJobId(id);
  const configText = await store.readConfig();
  if (configText === undefined) {
    throw new ImgpipeError('NOT_FOUND', `No backfill job ${describeValue(id)} in ${store.where}: run \`imgpipe backfill resume|report\` from the folder the job was started in (for a job run with --state-in-bucket, from anywhere with --target oss://ITS-TARGET), or check the id it printed`);
  }
  let config: JobConfig;
  try {
    config = JSON.parse(configText) as JobConfig;
  } catch {
    throw damaged(store, 'job.json is not JSON');
  }
  if (config.format !== JOB_FORMAT) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Job ${store.where}: job.json has format ${describeValue(config.format)}, expected ${describeValue(JOB_FORMAT)}: it was not written by this version of imgpipe backfill`);
  }
  if (config.id !== id) {
    throw new ImgpipeError('INVALID_ARGUMENT', `${store.where} holds job ${describeValue(config.id)}, not ${describeValue(id)}: it was copied or renamed from another job; resume ${describeValue(config.id)} from its own place, or start a new job`);
  }
  const total = config.tasks;
  const status = new Uint8Array(total);
  const rounds = new Uint16Array(Math.ceil(total / config.chunk));
  let succeeded = 0;
  let failed = 0;
  const note = (r: ResultRecord): boolean => {
    if (!Number.isInteger(r.i) || r.i < 0 || r.i >= total) {
      throw damaged(store, `a result for task ${describeValue(r.i)}, but the job has ${total} tasks`);
    }
    if (status[r.i] !== NONE) return false;
    status[r.i] = r.status === 'Succeeded' ? SUCCEEDED : FAILED;
    if (r.status === 'Succeeded') succeeded++;
    else failed++;
    return true;
  };
  let n = 0;
  for await (const lines of store.readRecords()) {
    for (const line of lines) {
      n++;
      if (line === '') continue;
      const r = parseLine<JobRecord>(line, store, 'records', n);
      if (r.t === 'result') note(r);
      else if (r.t === 'submit' && r.chunk >= 0 && r.chunk < rounds.length) rounds[r.chunk] = Math.max(rounds[r.chunk], r.round);
    }
  }

  async function* chunks(): AsyncGenerator<{ chunk: number; tasks: Task[] }> {
    let i = 0;
    let chunk: Task[] = [];
    for await (const lines of store.readTasks()) {
      for (const line of lines) {
        if (line === '') continue;
        const t = parseLine<Task>(line, store, 'tasks', i + 1);
        if (t.i !== i) throw damaged(store, `task line ${i + 1} is task ${describeValue(t.i)}`);
        i++;
        chunk.push(t);
        if (chunk.length === config.chunk) {
          yield { chunk: (i - 1 - ((i - 1) % config.chunk)) / config.chunk, tasks: chunk };
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) yield { chunk: Math.floor((i - 1) / config.chunk), tasks: chunk };
    if (i !== total) throw damaged(store, `the task list holds ${i} tasks but job.json says ${total}`);
  }

  async function* records(): AsyncGenerator<JobRecord[]> {
    let k = 0;
    for await (const lines of store.readRecords()) {
      yield lines.filter((l) => l !== '').map((l) => parseLine<JobRecord>(l, store, 'records', ++k));
    }
  }

  return {
    dir: store.where,
    store,
    config,
    isDone: (i) => status[i] !== NONE,
    succeeded: (i) => status[i] === SUCCEEDED,
    get counts() {
      return { succeeded, failed };
    },
    roundOf: (c) => rounds[c] ?? 0,
    chunks,
    records,
    async append(list) {
      const kept = list.filter((r) => r.t !== 'result' || note(r));
      for (const r of kept) if (r.t === 'submit' && r.chunk < rounds.length) rounds[r.chunk] = Math.max(rounds[r.chunk], r.round);
      if (kept.length === 0) return;
      await store.appendRecords(kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    },
    close: () => store.close(),
  };
}

