/**
 * `imgpipe backfill plan|run|resume|report`: run the upload recipe over a bucket that already holds
 * images, resumably, on this machine or fanned out over Function Compute. See the README's
 * "Backfill" section.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { ImgpipeError, describeValue, isImgpipeError } from '../../src/index.js';
import { DEFAULT_RECIPE, validateRecipe, type Recipe } from '../../src/index.js';
import { estimate, FC_PRICES, AWS_PRICES, TIME_MODEL, type Estimate } from '../backfill/estimate.js';
import { bucketJobStore } from '../backfill/job-bucket.js';
import { checkJobId, createJob, JOB_FORMAT, jobsRoot, localJobStore, newJobId, openJob, type Job, type JobConfig } from '../backfill/job.js';
import { calibrate } from '../backfill/calibrate.js';
import { createLocalExecutor } from '../backfill/local.js';
import { CLASSES, plan, type PlanSummary } from '../backfill/plan.js';
import { writeReport } from '../backfill/report.js';
import { runJob, type Executor, type Progress, type RunOutcome } from '../backfill/run.js';
import { explainStorageError, listSource, openInventory, parseOssUrl, rawClient, type OssLocation, type SourceObject } from '../backfill/source.js';
import { createUploadHandler } from '../fc/handler.js';
import { recipeHash } from '../fc/recipe-hash.js';
import { resolveCredentials, type OssCredentials } from '../oss/credentials.js';
import { createOssStorage } from '../oss/storage.js';
import type { Storage } from '../storage.js';

const USAGE = `Usage:
  imgpipe backfill plan oss://BUCKET/PREFIX [--target oss://BUCKET] [--endpoint URL] [--recipe FILE]
                        [--inventory oss://BUCKET/path/manifest.json] [--sample N] [--calibrate N] [--calibrate-warm-up S] [--json]
      List the source (ListObjectsV2, or an OSS inventory's CSV files streamed), classify every object
      as missing, stale, up-to-date or skip, and estimate time and Function Compute cost; the local
      time from running the recipe on N sampled objects (default 64, 0 for none; at most 20 s of
      them) after S seconds of untimed warm-up (default 10). Writes nothing.
  imgpipe backfill run oss://BUCKET/PREFIX (--local | --invoke fc:NAME[@QUALIFIER] --region R [--fc-endpoint URL])
                       [--job ID] [plan options] [--threads N] [--chunk N] [--pilot N] [--max-failure-rate R]
                       [--breaker-min-tasks N] [--retries N] [--rate N] [--state-in-bucket] [--json]
      Plan, record the missing and stale objects as a job in ./.imgpipe-backfill/ID/ (or, with
      --state-in-bucket, under _backfill/ID/ in the target bucket), and process them.
  imgpipe backfill resume ID (--local | --invoke fc:NAME[@QUALIFIER] --region R) [--target oss://BUCKET] [run options]
      Continue a job: only tasks without a terminal record run again. --target finds a job kept in
      that bucket from any folder or machine.
  imgpipe backfill report ID [--target oss://BUCKET] [--failed-only] [--json]
      Write the completion report (CSV files + manifest.json, S3 Batch's shape) beside the job's state.

Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET (or OSS_*), as the upload
handler reads them. --endpoint (or IMGPIPE_OSS_ENDPOINT) points at another OSS endpoint, e.g. the
local server's. Exit status: 0 all succeeded, 1 some objects failed, 2 refused (nothing was done),
3 paused by the pilot or the circuit breaker (resume it after a look at the report).`;

class UsageError extends Error {}

const OPTIONS = {
  target: { type: 'string' },
  endpoint: { type: 'string' },
  'oss-region': { type: 'string' },
  recipe: { type: 'string' },
  inventory: { type: 'string' },
  sample: { type: 'string' },
  calibrate: { type: 'string' },
  'calibrate-warm-up': { type: 'string' },
  json: { type: 'boolean', default: false },
  job: { type: 'string' },
  local: { type: 'boolean', default: false },
  invoke: { type: 'string' },
  region: { type: 'string' },
  'fc-endpoint': { type: 'string' },
  threads: { type: 'string' },
  chunk: { type: 'string' },
  pilot: { type: 'string' },
  'max-failure-rate': { type: 'string' },
  'breaker-min-tasks': { type: 'string' },
  retries: { type: 'string' },
  rate: { type: 'string' },
  'failed-only': { type: 'boolean', default: false },
  'state-in-bucket': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parse>['values'];
function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function intOption(values: Values, name: keyof Values, min: number, max: number, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < min || n > max) throw new UsageError(`--${String(name)} expects an integer between ${min} and ${max} but received ${describeValue(raw)}`);
  return n;
}
function rateOption(values: Values, name: keyof Values, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n <= 0 || n > 1) throw new UsageError(`--${String(name)} expects a number above 0 and at most 1 but received ${describeValue(raw)}`);
  return n;
}

/** Read and validate the recipe file, or the default recipe. */
async function loadRecipe(file: string | undefined): Promise<Recipe> {
  if (file === undefined) return DEFAULT_RECIPE;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ImgpipeError('NOT_FOUND', `Expected a readable recipe file for --recipe but ${describeValue(file)} cannot be read`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ImgpipeError('INVALID_ARGUMENT', `The recipe file ${describeValue(file)} is not JSON (${(e as Error).message}): write the recipe as JSON, e.g. {"sizes":[...],"outputs":[...]}`);
  }
  try {
    return validateRecipe(json as Recipe);
  } catch (e) {
    throw isImgpipeError(e) ? new ImgpipeError(e.code, `The recipe file ${describeValue(file)} does not validate: ${e.message}`, { cause: e }) : e;
  }
}

interface Setup {
  readonly source: OssLocation;
  readonly targetBucket: string;
  readonly endpoint?: string;
  readonly ossRegion: string;
  readonly credentials: OssCredentials;
  readonly recipe: Recipe;
  readonly recipeHash: string;
  readonly inventory?: string;
  readonly sourceStorage: Storage;
  readonly target: Storage;
  readonly objects: () => AsyncIterable<readonly SourceObject[]>;
  readonly readHead: (bucket: string, key: string, bytes: number) => Promise<Uint8Array>;
}

/** Everything `plan` and `run` need, checked before any work: URLs, recipe, credentials, buckets, inventory. */
async function setup(values: Values, positionals: string[]): Promise<Setup> {
  if (positionals.length !== 1) throw new UsageError(`expected one source oss://BUCKET/PREFIX but received ${positionals.length}`);
  const source = parseOssUrl(positionals[0], 'the source');
  const targetLoc = values.target === undefined ? undefined : parseOssUrl(values.target, '--target');
  if (targetLoc && targetLoc.prefix !== '') throw new UsageError(`--target takes a bucket (oss://BUCKET); outputs go under the recipe's key templates, but received the prefix ${describeValue(targetLoc.prefix)}`);
  const targetBucket = targetLoc?.bucket ?? source.bucket;
  const recipe = await loadRecipe(values.recipe);
  const endpoint = values.endpoint ?? process.env.IMGPIPE_OSS_ENDPOINT;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) throw new UsageError(`--endpoint expects an http(s)://host[:port] URL but received ${describeValue(endpoint)}`);
  const ossRegion = values['oss-region'] ?? values.region ?? 'cn-hangzhou';
  const credentials = resolveCredentials(undefined, process.env);
  // Same loop check the upload handler applies, before anything is listed.
  createUploadHandler({ sourceBucket: source.bucket, targetBucket, sourcePrefix: source.prefix, recipe, env: {} });
  const open = (bucket: string) => createOssStorage({ bucket, region: ossRegion, credentials, endpoint, retry: { retries: 4 } });
  const sourceStorage = open(source.bucket);
  const target = targetBucket === source.bucket ? sourceStorage : open(targetBucket);
  // Preflight: the buckets exist and the credentials work, before any work.
  const first = await sourceStorage.list({ prefix: source.prefix, maxKeys: 1 }).catch((e: unknown) => { throw explainStorageError(e, source.bucket, 'source'); });
  if (target !== sourceStorage) await target.list({ maxKeys: 1 }).catch((e: unknown) => { throw explainStorageError(e, targetBucket, 'target'); });
  const clients = new Map<string, ReturnType<typeof rawClient>>();
  const client = (bucket: string) => {
    let c = clients.get(bucket);
    if (!c) clients.set(bucket, (c = rawClient(bucket, credentials, endpoint, ossRegion)));
    return c;
  };
  let objects: () => AsyncIterable<readonly SourceObject[]>;
  if (values.inventory !== undefined) {
    const inv = parseOssUrl(values.inventory, '--inventory');
    const reader = await openInventory(open(inv.bucket), client(inv.bucket), inv.prefix, source.bucket);
    objects = () => reader.objects(source.prefix);
  } else {
    if (first.objects.length === 0) {
      throw new ImgpipeError('NOT_FOUND', `No objects under oss://${source.bucket}/${source.prefix}: check the prefix (it is case-sensitive and has no leading slash)`);
    }
    objects = () => listSource(sourceStorage, source.prefix);
  }
  const readHead = async (bucket: string, key: string, bytes: number): Promise<Uint8Array> => {
    const r = await client(bucket).get(key, { headers: { Range: `bytes=0-${bytes - 1}` } });
    return new Uint8Array(r.content as Buffer);
  };
  return { source, targetBucket, endpoint, ossRegion, credentials, recipe, recipeHash: recipeHash(recipe), inventory: values.inventory, sourceStorage, target, objects, readHead };
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
function fmtDuration(s: number): string {
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function planText(s: Setup, summary: PlanSummary, est: Estimate, ms: number): string {
  const lines = [
    `Plan for oss://${s.source.bucket}/${s.source.prefix} -> oss://${s.targetBucket} (recipe ${s.recipeHash}; listed by ${s.inventory ? `inventory ${s.inventory}` : 'ListObjectsV2'}; ${fmtInt(summary.total)} objects in ${(ms / 1000).toFixed(1)} s)`,
  ];
  for (const c of CLASSES) {
    const why = Object.entries(summary.reasons).filter(([k]) => k.startsWith(`${c}:`)).map(([k, v]) => `${k.slice(c.length + 1)} ${fmtInt(v)}`).join(', ');
    lines.push(`  ${c.padEnd(11)} ${fmtInt(summary.counts[c]).padStart(10)}  ${fmtBytes(summary.bytes[c]).padStart(9)}${why ? `  (${why})` : ''}`);
  }
  const todo = summary.counts.missing + summary.counts.stale;
  if (summary.histogram) {
    lines.push(`  pixels of the ${fmtInt(todo)} to process (from ${summary.sampled} sampled headers): ${Object.entries(summary.histogram).map(([k, v]) => `${k} MP ${fmtInt(v)}`).join(', ')}`);
  }
  const i = est.inputs;
  lines.push(
    '',
    `Estimate for ${fmtInt(todo)} objects, ${fmtInt(summary.megapixels)} MP (${summary.megapixelsFrom === 'headers' ? 'scaled from sampled headers' : `from bytes at ${fmtInt(TIME_MODEL.bytesPerMegapixel)} B/MP`}):`,
    `  time model: ${i.fixedMs} ms + ${i.msPerMegapixel} ms/MP per object on one thread (${TIME_MODEL.measured}) = ${fmtInt(est.cpuSeconds)} CPU-s`,
    ...localLines(est, summary),
    `  Function Compute (${i.fcVcpu} vCPU, ${i.fcMemoryGb} GB, ${i.chunk} objects per async invocation): ${fmtInt(est.fc.invocations)} invocations, ${fmtInt(est.fc.vcpuSeconds)} vCPU-s, ${fmtInt(est.fc.gbSeconds)} GB-s`,
    `    = ${fmtInt(est.fc.cu)} CU x USD ${FC_PRICES.usdPerCu}/CU = USD ${est.fc.usd.toFixed(2)} (CU: ${FC_PRICES.cuPer10kInvocations}/10k invocations, ${FC_PRICES.cuPerActiveVcpuSecond}/vCPU-s, ${FC_PRICES.cuPerGbSecond}/GB-s; ${FC_PRICES.source})`,
    `  S3 Batch Operations + Lambda for the same job: USD ${est.aws.usd.toFixed(2)} (USD ${AWS_PRICES.batchUsdPerJob}/job + ${AWS_PRICES.batchUsdPerMillionObjects}/M objects, Lambda ${AWS_PRICES.lambdaUsdPerMillionRequests}/M requests + ${AWS_PRICES.lambdaUsdPerGbSecond}/GB-s; ${AWS_PRICES.source})`,
    '  Not included: OSS requests and traffic (the same on both sides within a region).',
  );
  return `${lines.join('\n')}\n`;
}

/** How the local time was obtained: the calibration's measurements per kind, or the model. */
function localLines(est: Estimate, summary: PlanSummary): string[] {
  const c = est.calibration;
  if (!c) return [`  run --local on ${est.inputs.localThreads} threads: ${fmtDuration(est.localSeconds)} (the model divided by the threads; no calibration)`];
  const lines = [
    `  run --local on ${c.threads} threads: ${fmtDuration(est.localSeconds)}, from a calibration on this machine: the recipe on ${c.objects} sampled objects (${fmtBytes(c.bytes)}) after ${c.warmUpObjects} untimed, ${c.concurrency} at a time as run does, writes discarded: ${c.seconds.toFixed(1)} s + ${c.startupSeconds.toFixed(1)} s start-up`,
    `    fitted: ${c.fixedSeconds.toFixed(3)} s per object + seconds per MB of source by kind`,
  ];
  for (const [kind, n] of Object.entries(summary.objectsByKind).sort((a, b) => b[1] - a[1])) {
    const k = c.kinds[kind];
    const perMb = (k?.secondsPerByte ?? c.secondsPerByte) * 1e6;
    const from = k && k.objects >= 3 ? `${k.objects} sampled` : `the whole sample's; ${k?.objects ?? 0} of this kind sampled`;
    lines.push(`    ${kind.padEnd(5)} ${fmtInt(n).padStart(9)} objects, ${fmtBytes(summary.bytesByKind[kind] ?? 0)} x ${perMb.toFixed(3)} s/MB (${from}) = ${fmtDuration(c.secondsByKind[kind] ?? 0)}`);
  }
  return lines;
}

function threadsOf(values: Values): number {
  return intOption(values, 'threads', 1, 256, os.availableParallelism?.() ?? os.cpus().length);
}

async function planCommand(values: Values, positionals: string[]): Promise<number> {
  const t0 = performance.now();
  const s = await setup(values, positionals);
  const summary = await plan({
    objects: s.objects(), target: s.target, recipe: s.recipe, recipeHash: s.recipeHash, prefix: s.source.prefix,
    sample: intOption(values, 'sample', 0, 10_000, 64), readHead: s.readHead,
  });
  const threads = threadsOf(values);
  // The local time is measured: the recipe on the first N objects of the plan's deterministic sample.
  const n = intOption(values, 'calibrate', 0, 1000, 64);
  const calibration = n > 0 && summary.sample.length > 0
    ? await calibrate({
      sample: summary.sample.slice(0, n), recipe: s.recipe, manifestKey: 'meta/{name}.json', sourceBucket: s.source.bucket, sourcePrefix: s.source.prefix,
      source: s.sourceStorage, target: s.target, threads, credentials: s.credentials,
      warmUpSeconds: intOption(values, 'calibrate-warm-up', 0, 600, 10),
    })
    : undefined;
  const est = estimate({
    objects: summary.counts.missing + summary.counts.stale, megapixels: summary.megapixels, megapixelsFrom: summary.megapixelsFrom, localThreads: threads,
    chunk: intOption(values, 'chunk', 1, 1000, 10), calibration, objectsByKind: summary.objectsByKind, bytesByKind: summary.bytesByKind,
  });
  const ms = performance.now() - t0;
  const { sample: _sample, ...shown } = summary;
  if (values.json) process.stdout.write(`${JSON.stringify({ source: `oss://${s.source.bucket}/${s.source.prefix}`, target: `oss://${s.targetBucket}`, recipeHash: s.recipeHash, ...shown, estimate: est, ms: Math.round(ms) })}\n`);
  else process.stdout.write(planText(s, summary, est, ms));
  return 0;
}

/** Where the work runs: `--local`, or `--invoke fc:NAME[@QUALIFIER]`. */
async function executorFor(values: Values, job: Job, credentials: OssCredentials, endpoint: string | undefined): Promise<{ executor: Executor; concurrency: number }> {
  if (values.local === (values.invoke !== undefined)) throw new UsageError('expected exactly one of --local or --invoke fc:NAME[@QUALIFIER]');
  if (values.local) {
    const threads = threadsOf(values);
    return { executor: await createLocalExecutor({ job, credentials, endpoint, threads }), concurrency: Math.max(1, threads) };
  }
  const { createFcExecutor, parseInvokeTarget } = await import('../backfill/fc-client.js');
  const fn = parseInvokeTarget(values.invoke!);
  if (values.region === undefined && values['fc-endpoint'] === undefined) throw new UsageError('--invoke needs --region R (or --fc-endpoint URL)');
  const executor = createFcExecutor({
    job, fn, credentials, region: values.region ?? job.config.ossRegion, endpoint: values['fc-endpoint'],
    ratePerSecond: intOption(values, 'rate', 1, 10_000, 50),
  });
  return { executor, concurrency: intOption(values, 'threads', 1, 256, 16) };
}

function progressReporter(json: boolean): { update(p: Progress): void; end(): void } {
  const tty = process.stderr.isTTY && !json;
  let lastLine = 0;
  return {
    update(p) {
      const rate = p.doneHere / Math.max(0.001, p.elapsedMs / 1000);
      const eta = rate > 0 ? (p.total - p.done) / rate : Infinity;
      if (tty) {
        const width = 24;
        const filled = Math.round((p.done / Math.max(1, p.total)) * width);
        process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${fmtInt(p.done)}/${fmtInt(p.total)} done, ${fmtInt(p.failed)} failed, ${rate.toFixed(1)} images/s, ETA ${Number.isFinite(eta) ? fmtDuration(eta) : '?'}   `);
      } else if (performance.now() - lastLine > 1000 || p.done === p.total) {
        lastLine = performance.now();
        process.stdout.write(`${JSON.stringify({ event: 'progress', done: p.done, total: p.total, succeeded: p.succeeded, failed: p.failed, imagesPerSecond: Number(rate.toFixed(2)), etaSeconds: Number.isFinite(eta) ? Math.round(eta) : null })}\n`);
      }
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

async function execute(values: Values, job: Job, credentials: OssCredentials, endpoint: string | undefined): Promise<number> {
  const { executor, concurrency } = await executorFor(values, job, credentials, endpoint);
  const progress = progressReporter(values.json);
  let outcome: RunOutcome;
  try {
    outcome = await runJob(job, executor, {
      concurrency,
      retries: intOption(values, 'retries', 0, 10, 3),
      pilot: intOption(values, 'pilot', 0, 1_000_000, 50),
      pilotFailureRate: rateOption(values, 'max-failure-rate', 0.5),
      breakerFailureRate: rateOption(values, 'max-failure-rate', 0.5),
      breakerMinTasks: intOption(values, 'breaker-min-tasks', 1, 100_000_000, 1000),
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.end();
    await executor.close?.();
    await job.close();
  }
  const p = outcome.progress;
  const line = { event: 'end', job: job.config.id, status: outcome.status, reason: outcome.reason, total: p.total, done: p.done, succeeded: p.succeeded, failed: p.failed, seconds: Number((p.elapsedMs / 1000).toFixed(2)) };
  if (values.json) process.stdout.write(`${JSON.stringify(line)}\n`);
  else {
    process.stdout.write(`Job ${job.config.id}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}; ${fmtInt(p.succeeded)} succeeded, ${fmtInt(p.failed)} failed of ${fmtInt(p.total)} in ${(p.elapsedMs / 1000).toFixed(1)} s\n`);
    if (outcome.status === 'paused') process.stdout.write(`Resume with: imgpipe backfill resume ${job.config.id} ${values.local ? '--local' : `--invoke ${values.invoke}`}\n`);
  }
  return outcome.status === 'paused' ? 3 : p.failed > 0 ? 1 : 0;
}

async function runCommand(values: Values, positionals: string[]): Promise<number> {
  if (values.local === (values.invoke !== undefined)) throw new UsageError('expected exactly one of --local or --invoke fc:NAME[@QUALIFIER]');
  const id = values.job ?? newJobId();
  checkJobId(id);
  const s = await setup(values, positionals);
  const config: Omit<JobConfig, 'tasks'> = {
    format: JOB_FORMAT, id, createdAt: new Date().toISOString(), source: s.source, target: s.targetBucket,
    inventory: s.inventory, endpoint: s.endpoint, ossRegion: s.ossRegion, recipe: s.recipe, recipeHash: s.recipeHash,
    manifestKey: 'meta/{name}.json', chunk: intOption(values, 'chunk', 1, 1000, 10),
  };
  let summary: PlanSummary | undefined;
  // The plan streams its missing and stale objects into the job's task list as it classifies them:
  // the list is never in memory. Chunk c is lines c*N.. of that list, fixed once written.
  const inBucket = values['state-in-bucket'];
  const store = inBucket ? bucketJobStore(s.target, id) : localJobStore(process.cwd(), id);
  const job = await createJob(store, { ...config, state: inBucket ? 'bucket' : 'local' }, async (add) => {
    summary = await plan({
      objects: s.objects(), target: s.target, recipe: s.recipe, recipeHash: s.recipeHash, prefix: s.source.prefix, sample: 0,
      onObject: (o) => (o.class === 'missing' || o.class === 'stale' ? add({ bucket: o.bucket, key: o.key, etag: o.etag, size: o.size, class: o.class }) : undefined),
    });
  });
  // A note where the job lives, so `resume ID` and `report ID` from this folder find it without --target.
  if (inBucket) await writePointer(id, { target: s.targetBucket, endpoint: s.endpoint, ossRegion: s.ossRegion });
  const counts = summary!.counts;
  const head = { event: 'job', job: id, dir: job.dir, tasks: job.config.tasks, counts };
  if (values.json) process.stdout.write(`${JSON.stringify(head)}\n`);
  else process.stdout.write(`Job ${id}: ${fmtInt(job.config.tasks)} objects to process (${fmtInt(counts.missing)} missing, ${fmtInt(counts.stale)} stale; ${fmtInt(counts['up-to-date'])} up to date, ${fmtInt(counts.skip)} skipped) in ${job.dir}\n`);
  return execute(values, job, s.credentials, s.endpoint);
}

interface StatePointer {
  readonly target: string;
  readonly endpoint?: string;
  readonly ossRegion: string;
}
const pointerPath = (id: string) => join(jobsRoot(process.cwd()), id, 'state-in-bucket.json');
async function writePointer(id: string, p: StatePointer): Promise<void> {
  await mkdir(join(jobsRoot(process.cwd()), id), { recursive: true });
  await writeFile(pointerPath(id), `${JSON.stringify(p, null, 2)}\n`);
}

/**
 * Find a job: in the folder under the working directory; else in the bucket a `run --state-in-bucket`
 * from this folder noted; else under `_backfill/ID/` in `--target oss://BUCKET`.
 */
async function findJob(values: Values, id: string): Promise<Job> {
  checkJobId(id);
  const local = localJobStore(process.cwd(), id);
  if (values.target === undefined && (await local.readConfig()) !== undefined) return openJob(local, id);
  let pointer: StatePointer | undefined;
  if (values.target !== undefined) {
    const t = parseOssUrl(values.target, '--target');
    pointer = { target: t.bucket, ossRegion: values['oss-region'] ?? 'cn-hangzhou' };
  } else {
    pointer = await readFile(pointerPath(id), 'utf8').then((t) => JSON.parse(t) as StatePointer, () => undefined);
  }
  if (pointer === undefined) return openJob(local, id);
  const endpoint = values.endpoint ?? process.env.IMGPIPE_OSS_ENDPOINT ?? pointer.endpoint;
  const storage = createOssStorage({ bucket: pointer.target, region: pointer.ossRegion, credentials: resolveCredentials(undefined, process.env), endpoint, retry: { retries: 4 } });
  return openJob(bucketJobStore(storage, id), id);
}

async function resumeCommand(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('resume expects one job id');
  const job = await findJob(values, positionals[0]);
  const credentials = resolveCredentials(undefined, process.env);
  const endpoint = values.endpoint ?? job.config.endpoint;
  const { succeeded, failed } = job.counts;
  if (values.json) process.stdout.write(`${JSON.stringify({ event: 'job', job: job.config.id, dir: job.dir, tasks: job.config.tasks, done: succeeded + failed })}\n`);
  return execute(values, job, credentials, endpoint);
}

async function reportCommand(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('report expects one job id');
  const job = await findJob(values, positionals[0]);
  const summary = await writeReport(job, { failedOnly: values['failed-only'] });
  await job.close();
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(`Report of job ${summary.job} in ${summary.dir}: ${fmtInt(summary.counts.succeeded)} succeeded, ${fmtInt(summary.counts.failed)} failed, ${fmtInt(summary.counts.pending)} without a result\n`);
    for (const [code, n] of Object.entries(summary.errorCodes)) process.stdout.write(`  ${code}: ${fmtInt(n)}\n`);
  }
  return 0;
}

const SUBCOMMANDS: Record<string, (values: Values, positionals: string[]) => Promise<number>> = {
  plan: planCommand, run: runCommand, resume: resumeCommand, report: reportCommand,
};

export async function backfillCommand(argv: string[]): Promise<number> {
  const sub = argv[0];
  let json = argv.includes('--json');
  try {
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return sub === undefined ? 2 : 0;
    }
    const fn = SUBCOMMANDS[sub];
    if (!fn) throw new UsageError(`unknown backfill command ${describeValue(sub)}`);
    const { values, positionals } = parse(argv.slice(1));
    json = values.json;
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return await fn(values, positionals);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`imgpipe backfill: ${e.message}\n\n${USAGE}\n`);
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: e.message } })}\n`);
      return 2;
    }
    if (isImgpipeError(e)) {
      process.stderr.write(`imgpipe backfill: ${e.code}: ${e.message}\n`);
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`);
      return 2;
    }
    throw e;
  }
}
