/**
 * `npm run bench`: imgpipe against native sharp, @img/sharp-wasm32, wasm-vips and jimp, each in its
 * own child process (bench/child.ts), on the same inputs and asked for the same outputs. Prints a
 * table on stdout (progress goes to stderr), writes bench/results/latest.json and recipe.svg.
 *
 *   npm run bench                    full run (about 10 minutes on 2 cores)
 *   npm run bench -- --quick         < 1 minute: recipe on the standard photo, one thread, 3 runs
 *   options: --runs N --warmup N --rounds N --watermark --only imgpipe,sharp --workloads recipe-photo,...
 *            --cold-runs N --cold-workloads recipe-photo,recipe-phone (default recipe-photo; each must
 *            also be among --workloads) --no-cold --no-all-cores --no-browser --name BASE (result file names;
 *            default latest, or quick / watermark for those modes). The browser row (bench/browser.ts)
 *            runs in full runs only, not with --quick, --only or --workloads.
 *            --rounds N (default 1): per workload, the competitors take turns N times, each turn a fresh
 *            child with --warmup + --runs; the medians pool every turn's samples, so a drift in the
 *            machine's speed during a workload falls on every competitor alike.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { runChild } from './spawn.js';
import type { RunProbe } from './protocol.js';
import { COMPETITORS, baseline } from './competitors/index.js';
import { chooseEntry } from './competitors/imgpipe.js';
import type { ThreadMode } from './competitors/types.js';
import { FC_PRICING, fcCostPer10k, type FcCost } from './cost.js';
import { BENCH_DIR, CACHE_DIR, INPUTS, ROOT_DIR, ensureInput } from './inputs.js';
import { ssim, type PixelBuffer } from './ssim.js';
import { formatTable, summarize, type Summary } from './stats.js';
import { renderBarChart, type ChartGroup } from './svg.js';
import { benchBrowser, formatBrowserTable, type BrowserBenchResult } from './browser.js';
import { SOURCE_KINDS, workloads as allWorkloads, type InputId, type Workload } from './workloads.js';

interface Options {
  readonly quick: boolean;
  readonly runs: number;
  readonly warmup: number;
  /** Turns each competitor takes per workload (see the header). */
  readonly rounds: number;
  readonly watermark: boolean;
  readonly only?: readonly string[];
  readonly workloads?: readonly string[];
  readonly coldRuns: number;
  /** The recipe workloads whose cold start is measured (fresh processes, see below). */
  readonly coldWorkloads: readonly string[];
  readonly allCores: boolean;
  /** The recipe in Chromium (a Web Worker) against Node, same machine (bench/browser.ts). */
  readonly browser: boolean;
  /** Base name of the result files in bench/results/ (`latest` writes latest.json + recipe.svg). */
  readonly name: string;
}

/** Reference competitors: native sharp's three strategies; the fastest is "sharp" in every ratio. */
const SHARP_IDS = Object.freeze(['sharp', 'sharp-decode-once', 'sharp-cascade']);
const REFERENCE_ID = 'sharp';
const RESULTS_DIR = join(BENCH_DIR, 'results');
const OUT_DIR = join(CACHE_DIR, 'out');

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      watermark: { type: 'boolean', default: false },
      only: { type: 'string' },
      workloads: { type: 'string' },
      'cold-runs': { type: 'string' },
      'cold-workloads': { type: 'string' },
      'no-cold': { type: 'boolean', default: false },
      'no-all-cores': { type: 'boolean', default: false },
      'no-browser': { type: 'boolean', default: false },
      name: { type: 'string' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, fallback: number, min: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`Expected an integer >= ${min} for --${name} but received "${v}"`);
    return n;
  };
  const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));
  const quick = values.quick ?? false;
  if (values.name !== undefined && !/^[\w.-]+$/.test(values.name)) {
    throw new Error(`Expected --name made of letters, digits, dot, dash or underscore but received "${values.name}"`);
  }
  return Object.freeze({
    quick,
    runs: int('runs', values.runs, quick ? 3 : 7, 1),
    warmup: int('warmup', values.warmup, quick ? 0 : 2, 0),
    rounds: int('rounds', values.rounds, 1, 1),
    watermark: values.watermark ?? false,
    only: list(values.only),
    workloads: list(values.workloads) ?? (quick ? ['recipe-photo'] : undefined),
    coldRuns: values['no-cold'] || quick ? 0 : int('cold-runs', values['cold-runs'], 3, 1),
    coldWorkloads: list(values['cold-workloads']) ?? ['recipe-photo'],
    allCores: !(values['no-all-cores'] || quick),
    browser: !(values['no-browser'] || quick || values.only !== undefined || values.workloads !== undefined),
    // Partial or variant runs get their own files, so they never replace the full default figures.
    name: values.name ?? (quick ? 'quick' : values.watermark ? 'watermark' : 'latest'),
  });
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface OutputFigures {
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  /** SSIM on luma against native sharp's output; undefined for sharp's own reference output. */
  readonly ssim?: number;
  /** The output's size differs from sharp's (rounding); SSIM was taken after resizing it to sharp's. */
  readonly sizeDiffers?: boolean;
  /**
   * SSIM on luma against a reference resize of the source to this output's exact size: full decode
   * (no shrink-on-load), libvips Lanczos3, never encoded. Measures resize + encoding loss in absolute
   * terms, for sharp too, and doesn't depend on anyone's rounding of the height.
   */
  readonly ssimRef?: number;
}

interface Measured {
  readonly ok: true;
  readonly settings: string;
  readonly samplesMs: readonly number[];
  /** Per sample: CPU of the process and of its main thread, other threads' CPU, page faults. */
  readonly probes: readonly RunProbe[];
  readonly time: Summary;
  readonly firstRunMs: number;
  readonly firstDoneMs: number;
  readonly maxRssBytes: number;
  readonly totalBytes: number;
  readonly outputs: Readonly<Record<string, OutputFigures>>;
  readonly files: Readonly<Record<string, string>>;
}
type Cell = Measured | { readonly ok: false; readonly error: string };

interface Row {
  readonly competitor: string;
  readonly label: string;
  readonly single?: Cell;
  readonly all?: Cell;
  readonly cannot?: string;
}

async function decodeForSsim(file: string, size?: { width: number; height: number }): Promise<PixelBuffer> {
  let p = sharp(file).removeAlpha();
  if (size) p = p.resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' });
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels as 3, data };
}

async function measure(competitor: string, workload: Workload, threads: ThreadMode, opts: Options, inputPath: string): Promise<Cell> {
  const outDir = join(OUT_DIR, workload.id, `${competitor}-${threads}`);
  rmSync(outDir, { recursive: true, force: true });
  const { result } = await runChild({ competitor, workload, inputPath, threads, runs: opts.runs, warmup: opts.warmup, outDir });
  if (!result.ok) return result;
  log(`  ${probeLine(result.samplesMs, result.probes)}`);
  const outputs: Record<string, OutputFigures> = {};
  const files: Record<string, string> = {};
  for (const o of result.outputs) {
    outputs[o.name] = { bytes: o.bytes, width: o.width, height: o.height };
    if (o.file) files[o.name] = o.file;
  }
  return {
    ok: true,
    settings: result.settings,
    samplesMs: result.samplesMs,
    probes: result.probes,
    time: summarize(result.samplesMs),
    firstRunMs: result.firstRunMs,
    firstDoneMs: result.firstDoneMs,
    maxRssBytes: result.maxRssBytes,
    totalBytes: result.outputs.reduce((s, o) => s + o.bytes, 0),
    outputs,
    files,
  };
}

/**
 * One child's timed runs in a line: medians of wall, process CPU, main-thread CPU, minor faults, and
 * the other threads that ran. CPU above wall, or a main thread well under the process, means work
 * on other threads (a background compile, GC, a library's pool) that the wall time hides or adds.
 */
function probeLine(samplesMs: readonly number[], probes: readonly RunProbe[]): string {
  const med = (xs: readonly number[]) => summarize(xs).median;
  const others: Record<string, number[]> = {};
  for (const p of probes) for (const [name, v] of Object.entries(p.otherThreadsCpuMs)) (others[name] ??= []).push(v);
  const main = probes.map((p) => p.mainThreadCpuMs).filter((v): v is number => v !== undefined);
  const threads = Object.entries(others)
    .map(([name, v]) => `${name} ${(v.reduce((a, b) => a + b, 0) / probes.length).toFixed(1)}`)
    .join(', ');
  return [
    `wall ${ms(med(samplesMs))}`,
    `CPU ${ms(med(probes.map((p) => p.cpuMs)))}`,
    main.length ? `main thread ${ms(med(main))}` : undefined,
    `minor faults ${med(probes.map((p) => p.minorFaults)).toFixed(0)}`,
    `other threads (mean ms per run) ${threads || 'none'}`,
  ].filter(Boolean).join('; ');
}

/**
 * One cell from a competitor's turns at a workload: every turn's samples in one median, the highest
 * peak RSS, the first turn's first-run figures, the last turn's outputs (the ones left on disk). A
 * failed turn fails the cell.
 */
function poolTurns(cells: readonly Cell[]): Cell | undefined {
  if (cells.length === 0) return undefined;
  const failed = cells.find((c) => !c.ok);
  if (failed) return failed;
  const ok = cells as readonly Measured[];
  const samplesMs = ok.flatMap((c) => c.samplesMs);
  return {
    ...ok[ok.length - 1],
    samplesMs,
    probes: ok.flatMap((c) => c.probes),
    time: summarize(samplesMs),
    firstRunMs: ok[0].firstRunMs,
    firstDoneMs: ok[0].firstDoneMs,
    maxRssBytes: Math.max(...ok.map((c) => c.maxRssBytes)),
  };
}

/** Reference resizes of one input, by output size: computed once per size and shared by all rows. */
class ReferenceResizes {
  private readonly cache = new Map<string, Promise<PixelBuffer>>();
  constructor(private readonly inputPath: string) {}

  /** `flattened`: for a JPEG output, whose transparency both sides fill with white (OSS's rule for jpg). */
  get(width: number, height: number, flattened: boolean): Promise<PixelBuffer> {
    const key = `${width}x${height}${flattened ? ' flat' : ''}`;
    let p = this.cache.get(key);
    if (!p) {
      const resized = sharp(this.inputPath)
        .autoOrient()
        .resize(width, height, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: false });
      p = (flattened ? resized.flatten({ background: '#ffffff' }) : resized.removeAlpha())
        .raw()
        .toBuffer({ resolveWithObject: true })
        .then(({ data, info }) => ({ width: info.width, height: info.height, channels: info.channels as 3, data }));
      this.cache.set(key, p);
    }
    return p;
  }
}

/** Fill in both SSIM figures for every output of `cell`. */
async function addSsim(cell: Cell | undefined, reference: Measured | undefined, refs: ReferenceResizes): Promise<Cell | undefined> {
  if (!cell?.ok) return cell;
  const outputs: Record<string, OutputFigures> = {};
  for (const [name, fig] of Object.entries(cell.outputs)) {
    const file = cell.files[name];
    if (!file) {
      outputs[name] = fig;
      continue;
    }
    const own = await decodeForSsim(file);
    let figures: OutputFigures = { ...fig, ssimRef: ssim(await refs.get(own.width, own.height, /\.jpe?g$/i.test(file)), own) };
    const refFile = reference?.files[name];
    if (refFile && cell !== reference) {
      const ref = await decodeForSsim(refFile);
      const sizeDiffers = ref.width !== own.width || ref.height !== own.height;
      const cand = sizeDiffers ? await decodeForSsim(file, { width: ref.width, height: ref.height }) : own;
      figures = { ...figures, ssim: ssim(ref, cand), ...(sizeDiffers ? { sizeDiffers } : {}) };
    }
    outputs[name] = figures;
  }
  return { ...cell, outputs };
}

function minSsim(cell: Measured, figure: 'ssim' | 'ssimRef' = 'ssim'): number | undefined {
  const values = Object.values(cell.outputs).map((o) => o[figure]).filter((v): v is number => v !== undefined);
  return values.length ? Math.min(...values) : undefined;
}

/** Lowest SSIM over the outputs; `~` when an output's size differed from sharp's (compared after resizing). */
function ssimCell(cell: Measured, competitor: string): string {
  if (competitor === REFERENCE_ID) return 'ref';
  const v = minSsim(cell);
  if (v === undefined) return '-';
  return `${v.toFixed(4)}${Object.values(cell.outputs).some((o) => o.sizeDiffers) ? '~' : ''}`;
}

/** Bytes and SSIM per output, every competitor side by side: where the quality or size goes. */
function outputsTable(rep: WorkloadReport): string {
  const ok = rep.rows.filter((r): r is Row & { single: Measured } => r.single?.ok === true);
  const ref = ok.find((r) => r.competitor === REFERENCE_ID);
  // The reference first, so every SSIM column reads as "against the column on the left".
  const measured = ref ? [ref, ...ok.filter((r) => r !== ref)] : ok;
  const headers = ['output', ...measured.flatMap((r) => (r === ref ? [`${r.competitor} KB`, 'ref'] : [`${r.competitor} KB`, 'sharp', 'ref']))];
  const rows = rep.workload.outputs.map((o) => [
    `${o.name} ${o.width}w q${o.quality}`,
    ...measured.flatMap((r) => {
      const f = r.single.outputs[o.name];
      const kb = f ? (f.bytes / 1000).toFixed(1) : '-';
      const vsRef = f?.ssimRef !== undefined ? f.ssimRef.toFixed(4) : '-';
      if (r === ref) return [kb, vsRef];
      return [kb, f?.ssim !== undefined ? `${f.ssim.toFixed(4)}${f.sizeDiffers ? '~' : ''}` : '-', vsRef];
    }),
  ]);
  return formatTable(headers, rows);
}

/** The faster of sharp's two strategies for one thread mode. */
function sharpBest(rows: readonly Row[], mode: 'single' | 'all'): (Measured & { competitor: string }) | undefined {
  let best: (Measured & { competitor: string }) | undefined;
  for (const r of rows) {
    const c = r[mode];
    if (SHARP_IDS.includes(r.competitor) && c?.ok && (!best || c.time.median < best.time.median)) best = { ...c, competitor: r.competitor };
  }
  return best;
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(0);
const ratio = (a: number, b: number | undefined): string => (b ? `${(a / b).toFixed(2)}x` : '-');

interface WorkloadReport {
  readonly workload: Workload;
  readonly rows: readonly Row[];
  readonly sharpBest: { readonly single?: string; readonly all?: string };
  readonly costs: Readonly<Record<string, FcCost>>;
}

function workloadTable(rep: WorkloadReport): string {
  const bestSingle = sharpBest(rep.rows, 'single');
  const bestAll = sharpBest(rep.rows, 'all');
  const recipe = rep.workload.kind === 'recipe';
  const headers = ['competitor', '1T median', '1T min', 'x sharp', 'all median', 'all min', 'x sharp', 'peak RSS MiB', 'KB out', 'x sharp', 'SSIM vs sharp', 'SSIM vs ref'];
  if (recipe) headers.push('FC CNY/10k', 'FC MiB');
  const rows = rep.rows.map((r) => {
    const s = r.single, a = r.all;
    const mark = (id: string | undefined) => (id === r.competitor ? '*' : '');
    const label = `${r.label}${mark(bestSingle?.competitor)}`;
    if (!s?.ok) {
      const why = r.cannot ? `cannot: ${r.cannot}` : s ? `FAILED: ${s.error}` : 'not run';
      return [label, why.slice(0, 120)];
    }
    const cost = rep.costs[r.competitor];
    const cells = [
      label,
      ms(s.time.median),
      ms(s.time.min),
      ratio(s.time.median, bestSingle?.time.median),
      a?.ok ? ms(a.time.median) : a ? 'failed' : '-',
      a?.ok ? ms(a.time.min) : '-',
      a?.ok ? ratio(a.time.median, bestAll?.time.median) : '-',
      mib(s.maxRssBytes),
      (s.totalBytes / 1000).toFixed(1),
      ratio(s.totalBytes, bestSingle?.totalBytes),
      ssimCell(s, r.competitor),
      minSsim(s, 'ssimRef')?.toFixed(4) ?? '-',
    ];
    if (recipe) cells.push(cost ? cost.totalCnyPer10k.toFixed(4) : '-', cost ? String(cost.memoryMiB) : '-');
    return cells;
  });
  return formatTable(headers, rows);
}

/** One row per source kind: imgpipe's one-thread median over sharp's best, per workload type. */
function kindTable(reports: readonly WorkloadReport[]): string {
  const kindOf = (w: Workload) => (w.kind === 'recipe' ? 'recipe' : `720 px ${w.outputs[0].format.toUpperCase()}`);
  const columns = [...new Set(reports.map((r) => kindOf(r.workload)))];
  const inputs = (Object.keys(SOURCE_KINDS) as InputId[]).filter((k) => reports.some((r) => r.workload.input === k));
  const rows = inputs.map((k) => [SOURCE_KINDS[k], ...columns.map((col) => {
    const rep = reports.find((r) => r.workload.input === k && kindOf(r.workload) === col);
    const own = rep?.rows.find((r) => r.competitor === 'imgpipe')?.single;
    const best = rep && sharpBest(rep.rows, 'single');
    if (!rep || !own?.ok || !best) return '-';
    return `${ratio(own.time.median, best.time.median)} (${ms(own.time.median)} / ${ms(best.time.median)} ms, ${best.competitor.replace(/^sharp-?/, '') || 'per-variant'})`;
  })]);
  return formatTable(['source', ...columns], rows);
}

function chartGroups(reports: readonly WorkloadReport[]): ChartGroup[] {
  return reports.map((rep) => {
    const bestSingle = sharpBest(rep.rows, 'single');
    return {
      title: `${rep.workload.label} (${rep.workload.outputs.length} output${rep.workload.outputs.length > 1 ? 's' : ''})`,
      rows: rep.rows.map((r) => {
        const s = r.single?.ok ? r.single : undefined;
        const a = r.all?.ok ? r.all : undefined;
        const failure = r.cannot ? `cannot: ${r.cannot}` : r.single && !r.single.ok ? `failed: ${r.single.error.slice(0, 80)}` : undefined;
        const vsSharp = s && bestSingle ? `${ratio(s.time.median, bestSingle.time.median)} sharp` : undefined;
        return {
          label: r.label,
          values: [s?.time.median, a?.time.median],
          mins: [s?.time.min, a?.time.min],
          note: failure ?? vsSharp,
          highlight: r.competitor === 'imgpipe',
        };
      }),
    };
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseOptions(argv);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const selected = allWorkloads({ watermark: opts.watermark }).filter((w) => !opts.workloads || opts.workloads.includes(w.id));
  if (selected.length === 0) throw new Error(`Expected --workloads from ${allWorkloads({ watermark: false }).map((w) => w.id).join(', ')}`);
  // sharp's strategies always run: "sharp" in every ratio is the fastest of them.
  const competitors = COMPETITORS.filter((c) => !opts.only || opts.only.includes(c.id) || SHARP_IDS.includes(c.id));
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    loadAvgAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
  log(`imgpipe bench: ${command}`);
  log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadAvgAtStart.join(' ')}`);
  // The sources through tsx run measurably slower than the built package: say so before the first number.
  const { entry, why } = chooseEntry();
  log(`imgpipe: ${entry} (${why})${entry.endsWith('.ts') ? '\nWARNING: imgpipe runs from its sources, not the built package: run `npm run build` first to measure what users deploy' : ''}`);

  const inputPaths: Record<string, string> = {};
  for (const w of selected) {
    if (inputPaths[w.input]) continue;
    try {
      inputPaths[w.input] = await ensureInput(w.input, log);
    } catch (e) {
      log(`input ${w.input} unavailable: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const reports: WorkloadReport[] = [];
  for (const workload of selected) {
    const inputPath = inputPaths[workload.input];
    if (!inputPath) {
      log(`skipping ${workload.id}: its input could not be fetched`);
      continue;
    }
    // Competitors take turns, round by round; each cell pools its turns (poolTurns).
    const turns = new Map<string, { single: Cell[]; all: Cell[] }>();
    for (let round = 0; round < opts.rounds; round++) {
      for (const c of competitors) {
        if (c.cannot?.(workload)) continue;
        const t = turns.get(c.id) ?? { single: [], all: [] };
        turns.set(c.id, t);
        const turn = opts.rounds > 1 ? `, round ${round + 1}/${opts.rounds}` : '';
        log(`${workload.id}: ${c.id}, one thread${turn} ...`);
        const single = await measure(c.id, workload, 'single', opts, inputPath);
        if (!single.ok) log(`  failed: ${single.error}`);
        t.single.push(single);
        if (opts.allCores) {
          log(`${workload.id}: ${c.id}, all cores${turn} ...`);
          const all = await measure(c.id, workload, 'all', opts, inputPath);
          if (!all.ok) log(`  failed: ${all.error}`);
          t.all.push(all);
        }
      }
    }
    const rows: Row[] = competitors.map((c) => {
      const cannot = c.cannot?.(workload);
      if (cannot) return { competitor: c.id, label: c.label, cannot };
      const t = turns.get(c.id)!;
      return { competitor: c.id, label: c.label, single: poolTurns(t.single), all: poolTurns(t.all) };
    });
    const refCell = rows.find((r) => r.competitor === REFERENCE_ID)?.single;
    const ref = refCell?.ok ? refCell : undefined;
    const refs = new ReferenceResizes(inputPath);
    log(`${workload.id}: SSIM ...`);
    const withSsim: Row[] = [];
    for (const r of rows) withSsim.push({ ...r, single: await addSsim(r.single, ref, refs), all: await addSsim(r.all, ref, refs) });
    const costs: Record<string, FcCost> = {};
    if (workload.kind === 'recipe') {
      for (const r of withSsim) if (r.single?.ok) costs[r.competitor] = fcCostPer10k(r.single.time.median, r.single.maxRssBytes);
    }
    reports.push({
      workload,
      rows: withSsim,
      sharpBest: { single: sharpBest(withSsim, 'single')?.competitor, all: sharpBest(withSsim, 'all')?.competitor },
      costs,
    });
  }

  // Cold start: a fresh process per sample, spawn to exit, running the recipe once (on the standard
  // photo unless --cold-workloads names others). The libraries take turns sample by sample, so a
  // change in the machine's load falls on all of them alike.
  const cold: { workload: string; competitor: string; label: string; wall?: Summary; firstDone?: Summary; maxRssBytes?: number; error?: string }[] = [];
  for (const coldWorkload of selected.filter((w) => w.kind === 'recipe' && opts.coldWorkloads.includes(w.id))) {
    const inputPath = inputPaths[coldWorkload.input];
    if (!inputPath) continue;
    const runners = [baseline, ...competitors].filter((c) => !c.cannot?.(coldWorkload));
    const samples = opts.coldRuns;
    if (samples === 0) {
      // Quick mode: no dedicated processes; the timed child's own first run is the (in-process) figure.
      const rep = reports.find((r) => r.workload.id === coldWorkload.id);
      for (const c of runners) {
        const cell = rep?.rows.find((r) => r.competitor === c.id)?.single;
        if (cell?.ok) cold.push({ workload: coldWorkload.id, competitor: c.id, label: c.label, firstDone: summarize([cell.firstDoneMs]) });
      }
      continue;
    }
    const figures = runners.map(() => ({ walls: [] as number[], firsts: [] as number[], rss: 0, error: undefined as string | undefined }));
    for (let i = 0; i < samples; i++) {
      for (const [k, c] of runners.entries()) {
        const f = figures[k];
        if (f.error) continue;
        log(`cold start, ${coldWorkload.id}: ${c.id} ${i + 1}/${samples} ...`);
        const { result, wallMs } = await runChild({ competitor: c.id, workload: coldWorkload, inputPath, threads: 'default', runs: 0, warmup: 0 });
        if (!result.ok) {
          f.error = result.error;
          continue;
        }
        f.walls.push(wallMs);
        f.firsts.push(result.firstDoneMs);
        f.rss = Math.max(f.rss, result.maxRssBytes);
      }
    }
    for (const [k, c] of runners.entries()) {
      const { walls, firsts, rss, error } = figures[k];
      cold.push({
        workload: coldWorkload.id,
        competitor: c.id,
        label: c.label,
        ...(walls.length ? { wall: summarize(walls), firstDone: summarize(firsts), maxRssBytes: rss } : {}),
        ...(error ? { error } : {}),
      });
    }
  }

  // The browser row: the same recipe in Chromium's Web Worker and in Node, one after the other.
  let browser: BrowserBenchResult | undefined;
  if (opts.browser) {
    log('browser: recipe in Chromium (Web Worker) vs Node ...');
    try {
      browser = await benchBrowser({ runs: opts.runs, warmup: opts.warmup, watermark: opts.watermark });
    } catch (e) {
      log(`browser row unavailable: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // ---- report ----
  const out: string[] = [];
  out.push(`imgpipe benchmark — ${command}`);
  out.push(`${new Date().toISOString()}; ${machine.cpu}; ${machine.cores} cores; ${machine.memoryGiB} GiB; node ${machine.node}; load at start ${machine.loadAvgAtStart.join(' ')}`);
  out.push(`runs: ${opts.runs} timed after ${opts.warmup} warm-up (plus the untimed first run)${opts.rounds > 1 ? `, in each of ${opts.rounds} alternating rounds` : ''}; watermark: ${opts.watermark ? 'on (large+medium)' : 'off'}`);
  out.push(`SSIM (Gaussian window, luma, lowest over the outputs): "vs sharp" = against native sharp's per-variant output (the issue's figure; sharp's own decode-once row shows how far two correct resizes differ); "vs ref" = against a reference resize of the source to the output's exact size (full decode, no shrink-on-load, libvips Lanczos3, not encoded)`);
  out.push(`1T = one thread (libvips concurrency 1, UV_THREADPOOL_SIZE=1); all = library defaults on ${machine.cores} cores; times in ms; * = sharp's faster strategy, the reference for "x sharp"`);
  out.push(`FC cost: median 1T duration x peak RSS rounded up to ${FC_PRICING.memoryStepMiB} MiB steps (min ${FC_PRICING.minMemoryMiB}) x ${FC_PRICING.cnyPerGiBSecond} CNY/GiB-s + ${FC_PRICING.cnyPer10kInvocations} CNY per 10,000 invocations`);
  out.push('', '## per source kind: imgpipe / sharp, one thread (sharp = the fastest of its strategies, named)', kindTable(reports));
  for (const rep of reports) {
    out.push('', `## ${rep.workload.label} — input ${relative(ROOT_DIR, inputPaths[rep.workload.input] ?? '')}`, workloadTable(rep));
    out.push('', `per output, one thread: KB, SSIM vs ${REFERENCE_ID}'s output ("sharp"; ~ = height differed by rounding, compared after resizing to sharp's), SSIM vs reference resize ("ref")`, outputsTable(rep));
  }
  for (const id of [...new Set(cold.map((c) => c.workload))]) {
    const rows = cold.filter((c) => c.workload === id);
    // Against sharp's per-variant row: the code a user writes first, run in a fresh process.
    const sharpWall = rows.find((c) => c.competitor === REFERENCE_ID)?.wall?.median;
    const coldRows = rows.map((c) =>
      c.error
        ? [c.label, `FAILED: ${c.error.slice(0, 100)}`]
        : [c.label, c.wall ? ms(c.wall.median) : '-', c.wall ? ms(c.wall.min) : '-', c.wall ? ratio(c.wall.median, sharpWall) : '-', c.firstDone ? ms(c.firstDone.median) : '-', c.maxRssBytes ? mib(c.maxRssBytes) : '-'],
    );
    const how = opts.coldRuns
      ? `${opts.coldRuns} fresh process${opts.coldRuns === 1 ? '' : 'es'} each, taking turns, every library as imported, nothing configured`
      : 'no dedicated processes: first run of the one-thread child, measured inside it';
    const workload = selected.find((w) => w.id === id);
    out.push('', `## cold start: fresh process -> ${workload?.label ?? id} done -> exit (${how})`);
    out.push(formatTable(['competitor', 'process median', 'process min', 'x sharp', 'first recipe done at', 'peak RSS MiB'], coldRows));
  }
  if (browser) out.push('', '## browser: the recipe in Chromium (module Web Worker, dist/web.standalone.js) vs Node (dist/node.js)', formatBrowserTable(browser));
  out.push('', '## settings');
  for (const rep of reports.slice(0, 1)) {
    for (const r of rep.rows) {
      if (r.single?.ok) out.push(`- ${r.label} (1T): ${r.single.settings}`);
      if (r.all?.ok) out.push(`- ${r.label} (all): ${r.all.settings}`);
      if (r.cannot) out.push(`- ${r.label}: cannot: ${r.cannot}`);
    }
  }
  const table = out.join('\n');
  process.stdout.write(`${table}\n`);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = opts.name;
  const svgName = base === 'latest' ? 'recipe.svg' : `${base}.svg`;
  const json = {
    command,
    date: new Date().toISOString(),
    machine: { ...machine, loadAvgAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))) },
    options: opts,
    pricing: FC_PRICING,
    workloads: reports.map((rep) => ({
      id: rep.workload.id,
      label: rep.workload.label,
      input: INPUTS[rep.workload.input].label,
      outputs: rep.workload.outputs,
      sharpBest: rep.sharpBest,
      rows: rep.rows.map((r) => ({ ...r, single: stripFiles(r.single), all: stripFiles(r.all), cost: rep.costs[r.competitor] })),
    })),
    coldStart: cold,
    browser,
  };
  writeFileSync(join(RESULTS_DIR, `${base}.json`), `${JSON.stringify(json, null, 2)}\n`);
  const svg = renderBarChart({
    title: `imgpipe vs native sharp and WASM peers${opts.watermark ? ' (watermark on)' : ''}`,
    subtitle: `${command} · ${machine.cpu.replace(/\s+/g, ' ')} · ${machine.cores} cores · node ${machine.node} · ${json.date.slice(0, 10)}`,
    unit: 'ms',
    series: opts.allCores ? ['1 thread', 'all cores'] : ['1 thread'],
    groups: chartGroups(reports),
    footnote: `median of ${opts.runs * opts.rounds} runs after warm-up${opts.rounds > 1 ? ` (${opts.rounds} alternating rounds)` : ''}; (N.NNx sharp) = 1-thread median / the faster native sharp strategy's; data: bench/results/${base}.json`,
  });
  writeFileSync(join(RESULTS_DIR, svgName), svg);
  log(`wrote bench/results/${base}.json and bench/results/${svgName}`);
}

/** The JSON keeps figures, not paths into the (gitignored) cache. */
function stripFiles(cell: Cell | undefined): Omit<Measured, 'files'> | Cell | undefined {
  if (!cell?.ok) return cell;
  const { files: _files, ...rest } = cell;
  return rest;
}

main().catch((e: unknown) => {
  log(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
