/**
 * Blind watermark benchmark: the attack matrix of bench/blindmark-attacks.ts on photos (the fixtures'
 * photos plus seeded crops of the large ones) at 1200 and 600 px wide, each attack applied to the delivered
 * file (imgpipe's JPEG q85). Reports exact recovery per attack for imgpipe's mark and for a reimplementation
 * of blind_watermark's DWT-DCT-SVD (bench/blindmark-baseline.ts) on the same files, luma PSNR and SSIM of
 * the embedding, false positives on clean crops and with a wrong key, and CPU times (one thread).
 *
 *   npx tsx bench/blindmark.ts                          # 4 photos x 2 sizes, 100 clean crops
 *   npx tsx bench/blindmark.ts --images 200 --clean 2000 # the issue's sample sizes
 *   ... --deadline 2026-12-05T13:25:00Z                  # stop handing out photos at that time; the table says how far it got
 *   ... --workers 2                                      # worker threads (default: the CPU count), photos and clean crops split among them
 *   ... --quick                                          # the fixed subset of hard cases (see QUICK), to judge a change in minutes
 *   ... --cases FILE                                     # a fixed list of cases instead (lines `photo width attack`, e.g. a run's FAIL lines)
 *   ... --baseline-every 4                               # the classical baseline on every 4th photo only (--no-baseline: none)
 *
 * Deterministic: images, crops and attack parameters come from fixed seeds, and each photo's and clean
 * crop's results are the same whichever thread computes them; the merged counts do not depend on --workers.
 * Writes bench/results/blindmark.md (or --out FILE) and prints the table.
 */
import sharp from 'sharp';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { fork } from 'node:child_process';
import '../entries/node.js';
import { encode } from '../src/encode.js';
import type { RGBAImage } from '../src/image.js';
import { embedBlindWatermark, extractBlindWatermark, type BlindWatermarkStrength } from '../src/ops/blind-watermark.js';
import { ATTACKS, pixels, type Attack } from './blindmark-attacks.js';
import { embedBaseline, extractBaseline } from './blindmark-baseline.js';
import { contentFor, IMAGES, photo, PHOTOS } from './blindmark-photos.js';
import { rng } from './fuzz.js';
import { lumaPsnr, ssim } from './ssim.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const CASES_FILE = arg('cases', '');
const QUICK_MODE = process.argv.includes('--quick') || CASES_FILE !== '';
const N_IMAGES = Number(arg('images', '4'));
const N_CLEAN = Number(arg('clean', QUICK_MODE ? '0' : '100'));
const SIZES = arg('sizes', '1200,600').split(',').map(Number);
const STRENGTH = arg('strength', 'medium') as BlindWatermarkStrength;
const ONLY = arg('attacks', '');
const DEADLINE = Date.parse(arg('deadline', '9999-01-01T00:00:00Z'));
const OUT = arg('out', fileURLToPath(new URL(QUICK_MODE ? './results/blindmark-quick.md' : './results/blindmark.md', import.meta.url)));
const WORKERS = Math.max(1, Number(arg('workers', String(availableParallelism()))));
const NO_BASELINE = process.argv.includes('--no-baseline');
/** The baseline runs on every k-th photo (n % k === 0): its column is a sample when k > 1, said in the table. */
const BASELINE_EVERY = Math.max(1, Number(arg('baseline-every', '1')));
const KEY = 'benchmark key';

/**
 * --quick: the resizes and crops that failed in the run of 2026-12-05 at 33 photos (11-24% of their coded
 * bits wrong at the true geometry: small sources enlarged, and 600 px photos cut to about 300 px), plus
 * rotation, screenshot, chain and other cases of the same photos, so a change to the embedding or the
 * extraction is judged on the hard cases in minutes. Recovery counts are deterministic, so the machine's
 * load does not change them.
 */
const QUICK: readonly { n: number; width: number; attacks: readonly string[] }[] = [
  { n: 4, width: 600, attacks: ['crop 25% area', 'resize 0.5x'] },
  { n: 5, width: 600, attacks: ['resize 0.5x', 'crop 25% area'] },
  { n: 7, width: 600, attacks: ['resize 0.5x'] },
  { n: 8, width: 1200, attacks: ['resize 2x', 'crop 25% area'] },
  { n: 8, width: 600, attacks: ['resize 0.5x', 'resize 0.75x', 'resize 2x', 'crop 50% area', 'crop 25% area', 'rotate 2°', 'chain 1080+q80+crop10%+bright1.1'] },
  { n: 12, width: 600, attacks: ['resize 0.5x'] },
  { n: 13, width: 1200, attacks: ['resize 2x'] },
  { n: 22, width: 600, attacks: ['resize 0.5x', 'resize 0.75x', 'crop 50% area', 'crop 25% area'] },
  { n: 23, width: 1200, attacks: ['resize 2x'] },
  { n: 23, width: 600, attacks: ['resize 2x', 'crop 25% area', 'screenshot 1.25x jpeg90'] },
  { n: 27, width: 600, attacks: ['resize 0.5x', 'crop 25% area', 'rotate -5°'] },
  { n: 28, width: 600, attacks: ['resize 2x', 'crop 25% area'] },
  { n: 32, width: 600, attacks: ['crop 25% area'] },
];

/**
 * --cases FILE: a fixed list of cases instead of QUICK, one per line, `photo width attack` (e.g. `8 600 resize
 * 0.5x`; # starts a comment), such as the failures a full run logged (its `FAIL` lines).
 */
const CASES: typeof QUICK = CASES_FILE
  ? readFileSync(CASES_FILE, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).map((l) => {
    const [n, width, ...name] = l.split(/\s+/);
    return { n: Number(n), width: Number(width), attacks: [name.join(' ')] };
  })
  : QUICK;

function cpu<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = process.cpuUsage();
  return f().then((value) => { const u = process.cpuUsage(t); return { value, ms: (u.user + u.system) / 1000 }; });
}

const bitsOf = (s: string): Uint8Array => {
  const bytes = new TextEncoder().encode(s.padEnd(8, '\0'));
  return Uint8Array.from({ length: 64 }, (_, i) => (bytes[i >> 3] >> (7 - (i & 7))) & 1);
};

const attacks: Attack[] = ONLY ? ATTACKS.filter((a) => ONLY.split(',').includes(a.name)) : [...ATTACKS];

/** What one photo (at every size) contributes to the table. */
interface PhotoResult {
  kind: 'photo';
  n: number;
  rows: Record<string, { ours: number; base: number; baseN: number; wrong: number; n: number; ms: number[] }>;
  psnr: number[]; psnrBase: number[]; ssims: number[];
  embedMs: [number, number][];
  wrongKeyFound: number; wrongKeyN: number;
  log: string[];
}
interface CleanResult { kind: 'clean'; i: number; found: boolean; ms: number }
type Task = { kind: 'photo'; n: number } | { kind: 'clean'; i: number };

/** The attacks to run on photo n at `width` (all of them, or the --quick list's). */
function attacksFor(n: number, width: number): Attack[] {
  if (!QUICK_MODE) return attacks;
  const names = CASES.filter((q) => q.n === n && q.width === width).flatMap((q) => q.attacks);
  return attacks.filter((a) => names.includes(a.name));
}

/** One photo at every size: embed, deliver as JPEG q85, run its attacks on ours and on the baseline. */
async function markedPhoto(n: number): Promise<PhotoResult> {
  const out: PhotoResult = { kind: 'photo', n, rows: {}, psnr: [], psnrBase: [], ssims: [], embedMs: [], wrongKeyFound: 0, wrongKeyN: 0, log: [] };
  const content = contentFor(n), truth = bitsOf(content);
  for (const width of SIZES) {
    const todo = attacksFor(n, width);
    if (todo.length === 0) continue;
    const t0 = Date.now();
    const { name, image } = await photo(n, width);
    const { value: marked, ms } = await cpu(() => embedBlindWatermark(image, { content, key: KEY, strength: STRENGTH }));
    out.embedMs.push([width, ms]);
    out.psnr.push(lumaPsnr(image, marked));
    out.ssims.push(ssim({ ...image, channels: 4 }, { ...marked, channels: 4 }));
    const delivered = await encode(marked, 'jpeg', { quality: 85 });
    let baseDelivered: Uint8Array | undefined;
    if (!NO_BASELINE && n % BASELINE_EVERY === 0) {
      const base = embedBaseline(image, truth, 1);
      out.psnrBase.push(lumaPsnr(image, base));
      baseDelivered = await encode(base, 'jpeg', { quality: 85 });
    }
    for (const attack of todo) {
      const row = out.rows[attack.name] ??= { ours: 0, base: 0, baseN: 0, wrong: 0, n: 0, ms: [] };
      const seed = 1000 * n + width;
      const attacked = await attack.apply(delivered, seed);
      const { value: result, ms: ems } = await cpu(() => extractBlindWatermark(attacked, { key: KEY }));
      row.n++;
      row.ms.push(ems);
      if (baseDelivered) row.baseN++;
      if (result.found && result.content === content) row.ours++;
      else if (result.found) row.wrong++;
      // the cases missed, in --cases' format, so a later run can replay exactly them
      if (!(result.found && result.content === content)) out.log.push(`FAIL ${n} ${width} ${attack.name}${result.found ? ' (wrong content)' : ''}`);
      if (baseDelivered) {
        const baseBits = extractBaseline(await attack.apply(baseDelivered, seed), 64, 1);
        if (baseBits.every((b, i) => b === truth[i])) row.base++;
      }
    }
    if (!QUICK_MODE) {
      const wrongKey = await extractBlindWatermark(await pixels(sharp(delivered)), { key: 'not the key' });
      out.wrongKeyN++;
      if (wrongKey.found) out.wrongKeyFound++;
    }
    out.log.push(`${width}px #${n} ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return out;
}

/** False positives: the i-th clean (never marked) crop of a photo at an assorted size, delivered as JPEG. */
async function cleanCrop(i: number): Promise<CleanResult> {
  const r = rng(104729 + i);
  const src = PHOTOS[i % PHOTOS.length];
  const s = sharp(readFileSync(IMAGES + src)).rotate();
  const { width: W = 0, height: H = 0 } = await sharp(await s.clone().png().toBuffer()).metadata();
  const cw = Math.max(200, Math.round(W * (0.3 + 0.7 * r()))), ch = Math.max(200, Math.min(H, Math.round(H * (0.3 + 0.7 * r()))));
  const left = Math.floor(r() * (W - Math.min(W, cw) + 1)), top = Math.floor(r() * (H - ch + 1));
  const out = Math.round(300 + 900 * r());
  const jpg = await s.extract({ left, top, width: Math.min(W, cw), height: ch }).resize({ width: out }).jpeg({ quality: 85 }).toBuffer();
  const image = await pixels(sharp(jpg));
  const { value, ms } = await cpu(() => extractBlindWatermark(image, { key: KEY }));
  return { kind: 'clean', i, found: value.found, ms };
}

const run = (t: Task): Promise<PhotoResult | CleanResult> => (t.kind === 'photo' ? markedPhoto(t.n) : cleanCrop(t.i));

const pct = (k: number, n: number): string => (n ? `${((100 * k) / n).toFixed(k === n ? 0 : 1)}%` : '—');
const median = (v: number[]): number => { const s = [...v].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const p95 = (v: number[]): number => { const s = [...v].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] : NaN; };
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const GOAL: Record<string, string> = { A: '≥ 99%', B: '≥ 99%', C: '≥ 99%', D: '≥ 95%', E: '≥ 95%' };

/** The merged results: sums and lists whose statistics do not depend on the order photos finish in. */
const rows = new Map(attacks.map((a) => [a.name, { ours: 0, base: 0, baseN: 0, wrong: 0, n: 0, ms: [] as number[] }]));
const psnr: number[] = [], psnrBase: number[] = [], ssims: number[] = [];
const embedMs = new Map<number, number[]>(SIZES.map((w) => [w, []]));
let wrongKeyFound = 0, wrongKeyN = 0, photosDone = 0, photosAsked = 0;
let cleanFound = 0;
const cleanMs: number[] = [];
const started = Date.now();

function merge(r: PhotoResult | CleanResult): void {
  if (r.kind === 'clean') {
    cleanMs.push(r.ms);
    if (r.found) cleanFound++;
    return;
  }
  for (const [name, part] of Object.entries(r.rows)) {
    const row = rows.get(name)!;
    row.ours += part.ours; row.base += part.base; row.baseN += part.baseN; row.wrong += part.wrong; row.n += part.n; row.ms.push(...part.ms);
  }
  psnr.push(...r.psnr); psnrBase.push(...r.psnrBase); ssims.push(...r.ssims);
  for (const [w, ms] of r.embedMs) embedMs.get(w)!.push(ms);
  wrongKeyFound += r.wrongKeyFound; wrongKeyN += r.wrongKeyN;
  photosDone++;
  for (const line of r.log) process.stderr.write(`${line} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}

/** The table so far (written after every photo, so a run stopped by --deadline still reports what it did). */
function report(final: boolean): void {
  const lines: string[] = [];
  const what = QUICK_MODE ? `${CASES_FILE ? `the cases of ${CASES_FILE}` : 'the --quick subset'} (${CASES.reduce((k, q) => k + q.attacks.length, 0)} cases of ${photosDone} photos)` : `${photosDone} photos x ${SIZES.join(' and ')} px = ${photosDone * SIZES.length} marked images per attack`;
  lines.push(`Command: \`npx tsx bench/blindmark.ts ${process.argv.slice(2).join(' ')}\`; ${what}${final && photosDone < photosAsked ? ` (stopped at the deadline; ${photosAsked} asked)` : ''}, strength ${STRENGTH}, ${cleanMs.length} clean crops, ${WORKERS} worker${WORKERS > 1 ? 's' : ''}; ${new Date().toISOString().slice(0, 10)}, ${Math.round((Date.now() - started) / 1000)} s${final ? '' : ' (in progress)'}.`);
  lines.push('');
  // A run of clean crops alone (--images 0) has no marked image to report on: its one line is the last.
  const marked = photosAsked > 0 || QUICK_MODE;
  const baseHead = ` blind_watermark DWT-DCT-SVD (reimplemented${BASELINE_EVERY > 1 ? `, every ${BASELINE_EVERY}th photo` : ''}) |`;
  if (marked) lines.push(`| attack | goal | imgpipe exact recovery | wrong content |${NO_BASELINE ? '' : baseHead} imgpipe extract CPU ms (median / p95) |`);
  if (marked) lines.push(`| --- | --- | --- | --- |${NO_BASELINE ? '' : ' --- |'} --- |`);
  for (const a of marked ? attacks : []) {
    const r = rows.get(a.name)!;
    if (r.n === 0 && QUICK_MODE) continue;
    lines.push(`| ${a.name} | ${GOAL[a.cls]} | ${pct(r.ours, r.n)} (${r.ours}/${r.n}) | ${r.wrong} |${NO_BASELINE ? '' : ` ${pct(r.base, r.baseN)} (${r.base}/${r.baseN}) |`} ${median(r.ms).toFixed(0)} / ${p95(r.ms).toFixed(0)} |`);
  }
  if (marked) lines.push('');
  if (marked) lines.push(`Embedding (luma): imgpipe PSNR mean ${mean(psnr).toFixed(2)} dB, min ${Math.min(...psnr).toFixed(2)} dB; SSIM mean ${mean(ssims).toFixed(4)}, min ${Math.min(...ssims).toFixed(4)}.${NO_BASELINE ? '' : ` blind_watermark PSNR mean ${mean(psnrBase).toFixed(2)} dB.`}`);
  if (marked) lines.push(`Embed CPU ms, median: ${SIZES.map((w) => `${w} px ${median(embedMs.get(w)!).toFixed(0)}`).join(', ')}.`);
  lines.push(`False positives: ${cleanFound} of ${cleanMs.length} clean crops (extract CPU ms median ${median(cleanMs).toFixed(0)}, p95 ${p95(cleanMs).toFixed(0)}); ${wrongKeyFound} of ${wrongKeyN} marked images read with a wrong key.`);
  const text = lines.join('\n');
  if (final) console.log(text);
  writeFileSync(OUT, `${text}\n`);
}

/**
 * The tasks in order: photos and clean crops interleaved (each photo followed by its share of the clean
 * crops), so a run stopped at --deadline has sampled every part of the matrix.
 */
function tasks(): Task[] {
  const photos = QUICK_MODE ? [...new Set(CASES.map((q) => q.n))] : Array.from({ length: N_IMAGES }, (_, n) => n);
  photosAsked = photos.length;
  const perPhoto = Math.ceil(N_CLEAN / Math.max(1, photos.length));
  const list: Task[] = [];
  let nextClean = 0;
  for (const n of photos) {
    list.push({ kind: 'photo', n });
    for (let k = 0; k < perPhoto && nextClean < N_CLEAN; k++) list.push({ kind: 'clean', i: nextClean++ });
  }
  while (nextClean < N_CLEAN) list.push({ kind: 'clean', i: nextClean++ });
  return list;
}

if (process.env.BLINDMARK_WORKER) {
  // a worker process: run each task the parent sends, answer with its result (CPU times are this process's own)
  process.on('message', (t: Task | 'exit') => {
    if (t === 'exit') process.exit(0);
    void run(t).then((r) => process.send!(r), (e: unknown) => { console.error(e); process.exit(1); });
  });
} else {
  // Worker processes, not threads: process.cpuUsage() is the whole process's in Node 20, so each extraction's
  // CPU time is only its own in a process of its own.
  const queue = tasks();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(WORKERS, queue.length) }, () => new Promise<void>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), { env: { ...process.env, BLINDMARK_WORKER: '1' } });
    const give = (): void => {
      if (next < queue.length && Date.now() < DEADLINE) child.send(queue[next++]);
      else child.send('exit');
    };
    child.on('message', (r: PhotoResult | CleanResult) => {
      merge(r);
      if (r.kind === 'photo') report(false);
      give();
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`blind watermark benchmark worker exited with ${code}`))));
    give();
  })));
  report(true);
}
