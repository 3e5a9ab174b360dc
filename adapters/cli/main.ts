/**
 * `imgpipe` command line. The default command runs the upload recipe with the local filesystem
 * standing in for the bucket: a variant with key `resized/large/photo.jpg` is written to
 * `<out>/resized/large/photo.jpg`, exactly the key it would get in OSS.
 *
 *   imgpipe <file|dir>... [--out DIR] [--json] [--recipe recipe.json] [--no-watermark] [--threads N]
 *   imgpipe transform <input> '<process string>' -o <output>
 *   imgpipe serve [options]
 */
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import * as os from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runRecipe, createWorkerPool, DEFAULT_RECIPE, isImgpipeError, type Recipe, type Variant } from '../../entries/node.js';

const HELP = `imgpipe: upload images in, served variants out.

Usage:
  imgpipe <file|dir>... [--out DIR] [--json] [--recipe FILE] [--no-watermark] [--threads N]
      Run the upload recipe (1200/600/150 px wide, JPEG q85 + WebP q80) on each file (folders are
      walked recursively). Outputs go to DIR (default ./out) under the keys they get in OSS.
      Encodes run on N worker threads (default: one per core; 1 runs everything in this thread).
      JPEG, PNG, WebP, GIF, HEIC (iPhone photos) and AVIF sources are read.
  imgpipe transform <input> '<x-oss-process string>' [-o <output>]   (JSON answers print without -o)
      Apply an OSS-compatible process string, e.g. 'image/resize,w_300/format,webp'.
  imgpipe serve [--help]
      Local OSS-compatible server with the upload pipeline and x-oss-process over HTTP.
  imgpipe backfill plan|run|resume|report [--help]
      Run the recipe over a bucket that already holds images, resumably, here or on Function Compute.

Exit status is 1 when any input failed (the others are still processed), 2 on usage errors.`;

interface RunArgs { inputs: string[]; out: string; json: boolean; recipe?: string; noWatermark: boolean; threads: number }

function parseRunArgs(argv: string[]): RunArgs {
  const args: RunArgs = { inputs: [], out: 'out', json: false, noWatermark: false, threads: os.availableParallelism?.() ?? os.cpus().length };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out' || a === '-o') args.out = need(argv, ++i, a);
    else if (a === '--json') args.json = true;
    else if (a === '--recipe') args.recipe = need(argv, ++i, a);
    else if (a === '--no-watermark') args.noWatermark = true;
    else if (a === '--threads') args.threads = threadCount(need(argv, ++i, a));
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else args.inputs.push(a);
  }
  if (args.inputs.length === 0) throw new UsageError('expected at least one file or folder');
  return args;
}

class UsageError extends Error {}
function threadCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 256) throw new UsageError(`--threads expects an integer between 1 and 256 but received ${JSON.stringify(v)}`);
  return n;
}
function need(argv: string[], i: number, flag: string): string {
  if (argv[i] === undefined) throw new UsageError(`${flag} needs a value`);
  return argv[i];
}

/** Every input file with the source key it stands for (its path relative to the folder given). */
async function collect(inputs: string[]): Promise<{ path: string; key: string }[]> {
  const files: { path: string; key: string }[] = [];
  const walk = async (dir: string, root: string): Promise<void> => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p, root);
      else if (e.isFile()) files.push({ path: p, key: relative(root, p).split('\\').join('/') });
    }
  };
  for (const input of inputs) {
    const s = await stat(input).catch(() => undefined);
    if (!s) files.push({ path: input, key: basename(input) });
    else if (s.isDirectory()) await walk(input, input);
    else files.push({ path: input, key: basename(input) });
  }
  return files;
}

interface Outcome {
  file: string;
  key: string;
  ok: boolean;
  ms: number;
  variants?: { key: string; size: string; format: string; width: number; height: number; bytes: number }[];
  /** ThumbHash and dominant colour, as the manifest has them. */
  placeholder?: { thumbhash: string; dominantColor: string };
  error?: { code: string; message: string };
}

function progress(done: number, total: number, name: string): void {
  if (total < 2 || !process.stderr.isTTY) return;
  const width = 24, filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${name.slice(0, 40).padEnd(40)}`);
  if (done === total) process.stderr.write('\n');
}

async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  let recipe: Recipe = args.recipe ? (JSON.parse(await readFile(args.recipe, 'utf8')) as Recipe) : DEFAULT_RECIPE;
  if (args.noWatermark) recipe = { ...recipe, watermark: undefined };
  const files = await collect(args.inputs);
  const pool = args.threads > 1 ? createWorkerPool({ threads: args.threads }) : undefined;
  const outcomes: Outcome[] = [];
  for (const [i, f] of files.entries()) {
    progress(i, files.length, f.key);
    const t0 = performance.now();
    // Whole milliseconds: the fractions are timer noise, not information.
    const ms = () => Math.round(performance.now() - t0);
    try {
      const bytes = new Uint8Array(await readFile(f.path));
      const { variants, placeholder } = await runRecipe(bytes, { key: f.key, recipe, encoder: pool?.encode, decodeHelper: pool?.decodeHelper });
      await writeVariants(args.out, variants);
      outcomes.push({
        file: f.path, key: f.key, ok: true, ms: ms(),
        variants: variants.map((v) => ({ key: v.key, size: v.size, format: v.format, width: v.width, height: v.height, bytes: v.bytes.byteLength })),
        placeholder,
      });
    } catch (e) {
      const error = isImgpipeError(e) ? { code: e.code, message: e.message }
        : (e as NodeJS.ErrnoException)?.code === 'ENOENT' ? { code: 'NOT_FOUND', message: `Expected a readable file but ${f.path} does not exist` }
        : { code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
      outcomes.push({ file: f.path, key: f.key, ok: false, ms: ms(), error });
    }
  }
  await pool?.close();
  progress(files.length, files.length, '');
  if (args.json) {
    const failed = outcomes.filter((o) => !o.ok).length;
    const summary = { processed: outcomes.length - failed, failed, ms: outcomes.reduce((sum, o) => sum + o.ms, 0) };
    process.stdout.write(`${JSON.stringify({ out: resolve(args.out), summary, results: outcomes }, null, 2)}\n`);
  }
  else process.stdout.write(summary(outcomes, args.out));
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

async function writeVariants(out: string, variants: readonly Variant[]): Promise<void> {
  for (const v of variants) {
    const path = resolve(out, v.key);
    // Keys come from the recipe's templates and the source path; never write outside --out.
    if (!path.startsWith(resolve(out) + '/')) throw new Error(`refusing to write ${v.key} outside ${out}`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, v.bytes);
  }
}

/** Human summary: one row per variant, failures with their code and message. */
export function summary(outcomes: readonly Outcome[], out: string): string {
  const rows: string[][] = [['source', 'variant', 'format', 'size', 'bytes', 'ms']];
  for (const o of outcomes) {
    if (!o.ok) { rows.push([o.key, `FAILED ${o.error!.code}`, '', '', '', o.ms.toFixed(0)]); continue; }
    o.variants!.forEach((v, i) => rows.push([i === 0 ? o.key : '', v.key, v.format, `${v.width}x${v.height}`, String(v.bytes), i === 0 ? o.ms.toFixed(0) : '']));
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 4 || c === 5 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const failed = outcomes.filter((o) => !o.ok);
  const text = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  text.push('', `${outcomes.length - failed.length} of ${outcomes.length} processed into ${out}/`);
  for (const f of failed) text.push(`${f.key}: ${f.error!.code}: ${f.error!.message}`);
  return `${text.join('\n')}\n`;
}

type Command = (argv: string[]) => Promise<number>;
const COMMANDS: Record<string, () => Promise<Command>> = {
  transform: async () => (await import('./transform.js')).transformCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  backfill: async () => (await import('./backfill.js')).backfillCommand,
};

/**
 * The CLI is an application, not a library a bundle carries: it decodes iPhone HEIC and reads and
 * writes AVIF without being asked, where the library leaves both plug-ins opt-in (their size, and
 * libheif's LGPL: still a module of its own, loaded from its own file). The built CLI imports the
 * built plug-in entries beside it, so their `threadEntry` is a file the pool's workers can import too;
 * from a checkout (tsx) it imports their sources.
 */
async function loadPlugins(): Promise<void> {
  const built = existsSync(fileURLToPath(new URL('./heic.node.js', import.meta.url)));
  const entries = built ? ['./heic.node.js', './avif.node.js'] : ['../../entries/heic/node.ts', '../../entries/avif/node.ts'];
  await Promise.all(entries.map((e) => import(new URL(e, import.meta.url).href)));
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') { process.stdout.write(`${HELP}\n`); return argv.length === 0 ? 2 : 0; }
  await loadPlugins();
  try {
    const sub = COMMANDS[argv[0]];
    if (sub) return await (await sub())(argv.slice(1));
    return await runCommand(argv[0] === 'run' ? argv.slice(1) : argv);
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`imgpipe: ${e.message}\n\n${HELP}\n`); return 2; }
    throw e;
  }
}

const invoked = process.argv[1] && resolve(process.argv[1]);
if (invoked && (invoked === resolve(new URL(import.meta.url).pathname) || /imgpipe(\.js)?$|cli\.js$/.test(invoked))) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`imgpipe: ${String(e?.stack ?? e)}\n`); process.exitCode = 1; });
}
