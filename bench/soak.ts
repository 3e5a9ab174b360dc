/**
 * Soak test for a warm instance: N recipe runs over mixed fixtures in one process, RSS sampled after
 * every run. Midway, one very large photo (generated with sharp, default 6000x4000) goes through the
 * same recipe: WebAssembly memory never shrinks, so without the codec-instance recycling in
 * src/wasm/instance.ts the instance would keep that peak for the rest of its life.
 *
 * Bound: RSS at the end (median of the last 20 samples) at most 10% above RSS at run 100 (median of
 * runs 91..110), and no failed run. RSS is sampled after a full GC when `--expose-gc` is on (as
 * `npm run soak` does), so the curve shows what is retained rather than garbage not yet collected.
 *
 *   npm run soak -- [--runs 1000] [--big-at 500] [--big 6000x4000] [--svg bench/results/soak.svg]
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DEFAULT_RECIPE, processUpload } from '../entries/node.js';
import { escapeXml } from './svg.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/images/', import.meta.url));
/** Every codec and path: baseline/progressive/grey/CMYK JPEG, PNG with alpha and 16-bit, WebP lossy/lossless/animated, GIF. */
const MIXED = [
  '320x240.jpg', 'with-alpha.png', '5_webp_a.webp', 'concert.jpg', 'animated-loop-3.gif', 'Landscape_3.jpg', 'grey-8bit-alpha.png',
  'rotating-squares.webp', 'flowers.jpeg', 'Flag_of_the_Netherlands-16bit.png', 'grey-1-component.jpg', 'Channel_digital_image_CMYK_color_no_profile.jpg',
  'blackbug.png', '4.webp',
];
const BOUND = 0.10;

export interface SoakSample { readonly run: number; readonly rss: number; readonly file: string }

export interface SoakResult {
  readonly samples: readonly SoakSample[];
  readonly failures: readonly string[];
  readonly at100: number;
  readonly atEnd: number;
  readonly growth: number;
  readonly beforeBig?: number;
  readonly peakBig?: number;
  readonly afterBig?: number;
}

const MB = 1024 * 1024;
const median = (xs: readonly number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const collect = (globalThis as { gc?: () => void }).gc;

export async function soak(options: { runs: number; bigAt?: number; big?: readonly [number, number]; log?: (line: string) => void }): Promise<SoakResult> {
  const files = MIXED.map((name) => ({ name, bytes: new Uint8Array(readFileSync(FIXTURES + name)) }));
  const [bw, bh] = options.big ?? [6000, 4000];
  const bigBytes = new Uint8Array(await sharp({ create: { width: bw, height: bh, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 80 }).toBuffer());
  const bigAt = options.bigAt ?? Math.floor(options.runs / 2);
  const samples: SoakSample[] = [];
  const failures: string[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const isBig = run === bigAt;
    const file = isBig ? { name: `generated ${bw}x${bh}.jpg`, bytes: bigBytes } : files[(run - 1) % files.length];
    try {
      const variants = await processUpload(file.bytes, { key: `soak/${run}/${file.name}`, recipe: DEFAULT_RECIPE });
      if (variants.length !== DEFAULT_RECIPE.sizes.length * DEFAULT_RECIPE.outputs.length) failures.push(`run ${run} ${file.name}: ${variants.length} variants`);
    } catch (e) {
      failures.push(`run ${run} ${file.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    collect?.();
    samples.push({ run, rss: process.memoryUsage().rss, file: file.name });
    if (run % 50 === 0 || isBig) options.log?.(`run ${run}: rss ${(samples.at(-1)!.rss / MB).toFixed(0)} MB${isBig ? ` (after ${file.name})` : ''}`);
  }
  const window = (from: number, to: number) => median(samples.filter((s) => s.run >= from && s.run <= to).map((s) => s.rss));
  const at100 = window(91, 110);
  const atEnd = window(options.runs - 19, options.runs);
  const peakRss = (run: number) => samples.find((s) => s.run === run)?.rss;
  return {
    samples, failures, at100, atEnd, growth: atEnd / at100 - 1,
    beforeBig: bigAt > 1 ? peakRss(bigAt - 1) : undefined,
    peakBig: peakRss(bigAt),
    afterBig: peakRss(bigAt + 1),
  };
}

/** RSS against run number as a small standalone SVG, the bound drawn as a dashed line. */
export function soakSvg(r: SoakResult, title: string): string {
  const W = 640, H = 280, L = 56, R = 16, T = 32, B = 36;
  const maxRss = Math.max(...r.samples.map((s) => s.rss), r.at100 * (1 + BOUND)) * 1.05;
  const runs = r.samples.length;
  const x = (run: number) => L + ((run - 1) / Math.max(1, runs - 1)) * (W - L - R);
  const y = (rss: number) => T + (1 - rss / maxRss) * (H - T - B);
  const points = r.samples.map((s) => `${x(s.run).toFixed(1)},${y(s.rss).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = maxRss * f;
    return `<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" font-family="sans-serif">${(v / MB).toFixed(0)}</text>`;
  }).join('');
  const bound = y(r.at100 * (1 + BOUND)).toFixed(1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${L}" y="20" font-size="13" font-family="sans-serif">${escapeXml(title)}</text>
${ticks}
<text x="14" y="${H / 2}" font-size="11" font-family="sans-serif" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">RSS (MB)</text>
<text x="${(L + W - R) / 2}" y="${H - 8}" font-size="11" font-family="sans-serif" text-anchor="middle">recipe run (1..${runs})</text>
<line x1="${L}" x2="${W - R}" y1="${bound}" y2="${bound}" stroke="#c0392b" stroke-dasharray="5 4"/>
<text x="${W - R}" y="${Number(bound) - 4}" font-size="10" font-family="sans-serif" text-anchor="end" fill="#c0392b">run 100 + ${BOUND * 100}%</text>
<polyline fill="none" stroke="#3b6fb6" stroke-width="1.5" points="${points}"/>
</svg>
`;
}

/** A text curve: one row per bucket of runs, median RSS as a bar. */
function textCurve(r: SoakResult, rows = 20): string {
  const size = Math.ceil(r.samples.length / rows);
  const max = Math.max(...r.samples.map((s) => s.rss));
  const lines: string[] = [];
  for (let i = 0; i < r.samples.length; i += size) {
    const chunk = r.samples.slice(i, i + size);
    const m = median(chunk.map((s) => s.rss)), peak = Math.max(...chunk.map((s) => s.rss));
    lines.push(`  runs ${String(chunk[0].run).padStart(5)}-${String(chunk.at(-1)!.run).padEnd(5)} ${(m / MB).toFixed(0).padStart(5)} MB (peak ${(peak / MB).toFixed(0).padStart(4)}) ${'#'.repeat(Math.round((m / max) * 50))}`);
  }
  return lines.join('\n');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function cli(): Promise<void> {
  const runs = Number(arg('runs') ?? 1000);
  if (!Number.isSafeInteger(runs) || runs < 120) throw new Error(`Expected --runs to be an integer of at least 120 (the bound compares against run 100) but received ${JSON.stringify(arg('runs'))}`);
  const bigArg = arg('big')?.split('x').map(Number);
  const big = bigArg && bigArg.length === 2 && bigArg.every((n) => Number.isSafeInteger(n) && n > 0) ? [bigArg[0], bigArg[1]] as const : undefined;
  const bigAt = arg('big-at') === undefined ? undefined : Number(arg('big-at'));
  const svgPath = arg('svg') ?? fileURLToPath(new URL('./results/soak.svg', import.meta.url));
  if (!collect) console.log('note: run with --expose-gc (npm run soak does) to sample RSS after a full GC');
  const started = performance.now();
  const r = await soak({ runs, big, bigAt, log: (line) => console.log(line) });
  const secs = (performance.now() - started) / 1000;
  console.log(`\nsoak: ${runs} recipe runs over ${MIXED.length} fixtures + 1 large image in ${secs.toFixed(0)} s, ${r.failures.length} failures`);
  console.log(textCurve(r));
  const mb = (v?: number) => (v === undefined ? '-' : `${(v / MB).toFixed(0)} MB`);
  console.log(`  large image: rss before ${mb(r.beforeBig)}, right after ${mb(r.peakBig)}, next run ${mb(r.afterBig)}`);
  console.log(`  rss at run 100 ${mb(r.at100)}, at run ${runs} ${mb(r.atEnd)}: growth ${(r.growth * 100).toFixed(1)}% (bound ${BOUND * 100}%)`);
  for (const f of r.failures.slice(0, 20)) console.log(`  FAILED ${f}`);
  mkdirSync(dirname(svgPath), { recursive: true });
  writeFileSync(svgPath, soakSvg(r, `imgpipe soak: ${runs} recipe runs, RSS after each (growth ${(r.growth * 100).toFixed(1)}% from run 100)`));
  console.log(`  wrote ${svgPath}`);
  process.exitCode = r.failures.length === 0 && r.growth <= BOUND ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void cli();
