/**
 * The benchmark's browser row: the upload recipe in Chromium (inside a module Web Worker, through the
 * built browser bundle dist/web.standalone.js with its WASM fetched from dist/wasm/) against Node (in
 * its own process, through dist/node.js) on the same machine, the same photo and the same recipe.
 * Both sides run the same timing loop (TIMING_LOOP below), so the ratio compares runtimes, not code.
 *
 *   npm run bench:browser                      5 runs after 1 warm-up, writes bench/results/browser.json
 *   options: --runs N --warmup N --no-watermark --name BASE (result file bench/results/BASE.json)
 *
 * bench/run.ts calls `benchBrowser(options)` and prints `formatBrowserTable(result)`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { BENCH_DIR, INPUTS, ROOT_DIR } from './inputs.js';
import { formatTable, summarize, type Summary } from './stats.js';

export interface BrowserBenchOptions {
  /** Timed runs per runtime (default 5). */
  readonly runs?: number;
  /** Untimed runs first, so both sides are measured with compiled WASM and warm JITs (default 1). */
  readonly warmup?: number;
  /** Run the default recipe with its watermark (default true, as the preview and FC run it). */
  readonly watermark?: boolean;
  /** The photo (default the standard benchmark photo, 2725x2225). */
  readonly input?: string;
  /** Chromium binary (default: what scripts/chromium.mjs finds, CHROMIUM_PATH first). */
  readonly chromium?: string;
}

/** One variant as both runtimes report it: key, width, height, encoded bytes. */
export type VariantSummary = readonly [key: string, width: number, height: number, bytes: number];

export interface RuntimeTiming {
  /** `node` or `chromium`, with the version that ran. */
  readonly runtime: 'node' | 'chromium';
  readonly version: string;
  /** The bundle that ran, relative to the project. */
  readonly entry: string;
  /** Milliseconds per recipe run, in run order. */
  readonly samples: readonly number[];
  readonly summary: Summary;
  /** Milliseconds to compile every WASM module (the first `init()`), not part of the samples. */
  readonly initMs: number;
  readonly variants: readonly VariantSummary[];
}

export interface BrowserBenchResult {
  readonly input: string;
  readonly recipe: 'default' | 'default without watermark';
  readonly runs: number;
  readonly warmup: number;
  readonly node: RuntimeTiming;
  readonly chromium: RuntimeTiming;
  /** Chromium median / Node median: above 1 means the browser is slower. */
  readonly ratio: number;
  /** Both runtimes produced the same variants (keys, dimensions and byte counts). */
  readonly sameOutputs: boolean;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly platform: string };
  readonly date: string;
}

const NODE_ENTRY = 'dist/node.js';
const BROWSER_ENTRY = 'dist/web.standalone.js';
const RESULTS_DIR = join(BENCH_DIR, 'results');
const CHILD_TIMEOUT_MS = 15 * 60_000;

/**
 * The timing loop, as JavaScript source shared by the Node child and the Web Worker: `init()` once
 * (timed apart), warm-up runs, then timed runs of `runRecipe` with `performance.now()`, which both
 * runtimes have. Defines `timeRecipe(api, bytes, { runs, warmup, watermark })`.
 */
const TIMING_LOOP = `
async function timeRecipe(api, bytes, { runs, warmup, watermark }) {
  const { watermark: _dropped, ...plain } = api.DEFAULT_RECIPE;
  const recipe = watermark ? api.DEFAULT_RECIPE : plain;
  const t0 = performance.now();
  await api.init();
  const initMs = performance.now() - t0;
  let last;
  for (let i = 0; i < warmup; i++) last = await api.runRecipe(bytes.slice(), { key: 'photo.jpg', recipe });
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const input = bytes.slice();
    const start = performance.now();
    last = await api.runRecipe(input, { key: 'photo.jpg', recipe });
    samples.push(performance.now() - start);
  }
  const variants = last.variants.map((v) => [v.key, v.width, v.height, v.bytes.byteLength]);
  return { samples, initMs, variants };
}`;

interface LoopResult { samples: number[]; initMs: number; variants: VariantSummary[] }

/** Fail early, naming the fix, when the bundles the benchmark runs are missing or older than the sources. */
function checkBuild(): void {
  for (const entry of [NODE_ENTRY, BROWSER_ENTRY]) {
    if (!existsSync(join(ROOT_DIR, entry))) throw new Error(`${entry} is missing: run npm run build first`);
  }
  const built = statSync(join(ROOT_DIR, BROWSER_ENTRY)).mtimeMs;
  const source = statSync(join(ROOT_DIR, 'src/index.ts')).mtimeMs;
  if (source > built) process.stderr.write(`warning: ${BROWSER_ENTRY} is older than src/index.ts; run npm run build to bench current code\n`);
}

function nodeSide(input: string, loop: { runs: number; warmup: number; watermark: boolean }): LoopResult {
  const script = `${TIMING_LOOP}
    import(${JSON.stringify(pathToFileURL(join(ROOT_DIR, NODE_ENTRY)).href)}).then(async (api) => {
      const { readFileSync } = await import('node:fs');
      const bytes = new Uint8Array(readFileSync(${JSON.stringify(input)}));
      process.stdout.write(JSON.stringify(await timeRecipe(api, bytes, ${JSON.stringify(loop)})));
    });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT_DIR, encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20 });
  return JSON.parse(out) as LoopResult;
}

/** The page's Worker: imports the standalone bundle as the preview does, fetches the photo, runs the loop. */
function workerSource(loop: { runs: number; warmup: number; watermark: boolean }): string {
  return `import * as api from '/${BROWSER_ENTRY}';
${TIMING_LOOP}
onmessage = async () => {
  try {
    const bytes = new Uint8Array(await (await fetch('/input')).arrayBuffer());
    postMessage({ ok: true, result: await timeRecipe(api, bytes, ${JSON.stringify(loop)}) });
  } catch (e) {
    postMessage({ ok: false, message: String(e?.code ?? '') + ' ' + String(e?.message ?? e) });
  }
};`;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>imgpipe browser benchmark</title>
<script type="module">
  window.bench = () => new Promise((resolve, reject) => {
    const worker = new Worker('/worker.js', { type: 'module' });
    worker.onmessage = ({ data }) => (data.ok ? resolve(data.result) : reject(new Error(data.message)));
    worker.onerror = (e) => reject(new Error('worker failed: ' + e.message));
    worker.postMessage('go');
  });
</script>`;

/** The few routes the page needs, on 127.0.0.1: the page, its worker, the photo and dist/. */
async function pageServer(input: string, worker: string): Promise<{ url: string; close: () => Promise<void> }> {
  const fixed: Record<string, [string, () => Uint8Array | string]> = {
    '/': ['text/html; charset=utf-8', () => PAGE],
    '/worker.js': ['text/javascript', () => worker],
    '/input': ['image/jpeg', () => readFileSync(input)],
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const dist = /^\/dist\/([\w.-]+(?:\/[\w.-]+)?)$/.exec(path);
    const route = fixed[path] ?? (dist && !dist[1].includes('..') ? [dist[1].endsWith('.wasm') ? 'application/wasm' : 'text/javascript', () => readFileSync(join(ROOT_DIR, 'dist', dist[1]))] : undefined);
    try {
      if (!route) throw new Error('not found');
      const body = route[1]();
      res.writeHead(200, { 'content-type': route[0] }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function chromiumSide(input: string, loop: { runs: number; warmup: number; watermark: boolean }, executablePath: string): Promise<LoopResult & { version: string }> {
  const server = await pageServer(input, workerSource(loop));
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS] });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => typeof (window as unknown as { bench?: unknown }).bench === 'function');
    const result = await page.evaluate(() => (window as unknown as { bench: () => Promise<LoopResult> }).bench());
    return { ...result, version: browser.version() };
  } finally {
    await browser.close();
    await server.close();
  }
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`Expected an integer >= ${min} for ${name} but received ${value}`);
  return value;
}

/** Run the recipe in Node, then in Chromium (never both at once: they would share the 2 cores). */
export async function benchBrowser(options: BrowserBenchOptions = {}): Promise<BrowserBenchResult> {
  const loop = {
    runs: checkCount('runs', options.runs ?? 5, 1),
    warmup: checkCount('warmup', options.warmup ?? 1, 0),
    watermark: options.watermark ?? true,
  };
  const input = options.input ?? INPUTS.photo.path;
  checkBuild();
  const node = nodeSide(input, loop);
  const browser = await chromiumSide(input, loop, options.chromium ?? findChromium().path);
  const timing = (runtime: 'node' | 'chromium', version: string, entry: string, r: LoopResult): RuntimeTiming =>
    Object.freeze({ runtime, version, entry, samples: r.samples, summary: summarize(r.samples), initMs: r.initMs, variants: r.variants });
  const nodeTiming = timing('node', process.version, NODE_ENTRY, node);
  const chromiumTiming = timing('chromium', browser.version, BROWSER_ENTRY, browser);
  const cpus = os.cpus();
  return Object.freeze({
    input: relative(ROOT_DIR, input),
    recipe: loop.watermark ? 'default' : 'default without watermark',
    runs: loop.runs,
    warmup: loop.warmup,
    node: nodeTiming,
    chromium: chromiumTiming,
    ratio: chromiumTiming.summary.median / nodeTiming.summary.median,
    sameOutputs: JSON.stringify(node.variants) === JSON.stringify(browser.variants),
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', platform: `${os.platform()} ${os.arch()}` },
    date: new Date().toISOString(),
  });
}

/** The browser row as a table: one line per runtime, with the ratio to Node. */
export function formatBrowserTable(result: BrowserBenchResult): string {
  const ms = (n: number) => n.toFixed(0);
  const row = (t: RuntimeTiming, ratio: number): string[] =>
    [`${t.runtime} ${t.version}`, t.entry, ms(t.summary.median), ms(t.summary.min), ms(t.summary.max), ms(t.initMs), `${ratio.toFixed(2)}x`];
  return [
    `recipe (${result.recipe}) on ${result.input}: ${result.runs} runs after ${result.warmup} warm-up, ${result.machine.cpus} cores`,
    formatTable(['runtime', 'bundle', 'median ms', 'min ms', 'max ms', 'init ms', 'vs node'], [
      row(result.node, 1),
      row(result.chromium, result.ratio),
    ]),
    result.sameOutputs ? 'outputs: identical variants (keys, dimensions, bytes) in both runtimes' : 'outputs: DIFFER between runtimes (see the JSON)',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      warmup: { type: 'string' },
      'no-watermark': { type: 'boolean', default: false },
      name: { type: 'string', default: 'browser' },
    },
    strict: true,
  });
  if (!/^[\w.-]+$/.test(values.name)) throw new Error(`Expected --name made of letters, digits, dot, dash or underscore but received "${values.name}"`);
  const result = await benchBrowser({
    runs: values.runs === undefined ? undefined : Number(values.runs),
    warmup: values.warmup === undefined ? undefined : Number(values.warmup),
    watermark: !values['no-watermark'],
  });
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${values.name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`${formatBrowserTable(result)}\nwrote ${relative(ROOT_DIR, file)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`bench:browser: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
