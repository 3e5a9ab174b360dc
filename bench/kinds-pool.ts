/**
 * The per-source-kind table (imgpipe's one-thread median over sharp's best strategy's) pooled over
 * several result files of `npm run bench`: each cell the geometric mean of its ratio in every file
 * that has it, beside the single ratios. On this shared 2-vCPU machine one run's cell moves by up to
 * 0.3x between runs minutes apart (the machine's speed drifts, and a run's rounds take turns only
 * within it), so a goal of "every kind at most 1.00x" is read over several runs of one build, not one.
 *
 *   npx tsx bench/kinds-pool.ts bench/results/kinds-s10.json bench/results/kinds-s10b.json bench/results/kinds-s11.json
 *
 * Prints a markdown table, then per file and pooled: the recipes' and the transforms' geometric means,
 * and the cells over 1.00x. `--cpu`: the ratios of CPU time instead (each child's median over its timed
 * runs of the process's CPU, every thread: sharp's libwebp decodes a lossy WebP on a second thread even
 * in its one-thread mode, which the wall-clock ratio counts against imgpipe and the CPU ratio does not).
 * `--rounds`: each cell also shows the spread of its per-round ratios over every file (imgpipe's median
 * in a round over the same sharp strategy's in that round: the two ran minutes apart at most) and how
 * many of them are over 1.00x, and the summary names the cells whose rounds fall on both sides of
 * 1.00x: there one run's ratio says more about the machine's drift than about the code.
 */
import { readFileSync } from 'node:fs';
import { SOURCE_KINDS, workloads, type InputId, type Workload } from './workloads.js';
import { median } from './cpu-args.js';
import { summarize } from './stats.js';

interface Timed { readonly ok?: boolean; readonly time?: { readonly median: number }; readonly samplesMs?: readonly number[]; readonly probes?: readonly { readonly cpuMs: number }[] }
interface ResultFile {
  readonly options: { readonly runs: number; readonly rounds: number };
  readonly workloads: readonly {
    readonly id: string;
    readonly sharpBest: { readonly single?: string };
    readonly rows: readonly { readonly competitor: string; readonly single?: Timed }[];
  }[];
}

const cpu = process.argv.includes('--cpu');
const byRound = process.argv.includes('--rounds');
const files = process.argv.slice(2).filter((a) => a !== '--cpu' && a !== '--rounds');
if (files.length === 0) {
  console.error('usage: npx tsx bench/kinds-pool.ts [--cpu] [--rounds] <result.json> [...]');
  process.exit(2);
}
const results = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ResultFile);
const known = new Map(workloads({ watermark: false }).map((w) => [w.id, w]));

/** Workload `id`'s one-thread cells in one file: imgpipe's and sharp's best strategy's (undefined where missing or failed). */
function cellsOf(file: ResultFile, id: string): { own?: Timed; theirs?: Timed } {
  const w = file.workloads.find((x) => x.id === id);
  const cell = (competitor: string | undefined) => {
    const single = w?.rows.find((r) => r.competitor === competitor)?.single;
    return single?.ok === false ? undefined : single;
  };
  return { own: cell('imgpipe'), theirs: cell(w?.sharpBest.single) };
}

/** The cell's times, one per timed run in the order they ran (rounds one after another): wall or CPU. */
function timesOf(cell: Timed | undefined): readonly number[] {
  return (cpu ? cell?.probes?.map((p) => p.cpuMs) : cell?.samplesMs) ?? [];
}

/** The cell's figure: bench/run.ts's median of the wall times, or the CPU times' (cpu-args.ts). */
function timeOf(cell: Timed | undefined): number | undefined {
  if (!cpu) return cell?.time?.median;
  const times = timesOf(cell);
  return times.length ? median(times) : undefined;
}

/** imgpipe / sharp's best, one thread, of workload `id` in one file; undefined when the file lacks it. */
function cellRatio(file: ResultFile, id: string): number | undefined {
  const cells = cellsOf(file, id);
  const own = timeOf(cells.own);
  const theirs = timeOf(cells.theirs);
  return own !== undefined && theirs !== undefined ? own / theirs : undefined;
}

/** The same ratio round by round (each round's timed runs are consecutive in the samples). */
function roundRatios(file: ResultFile, id: string): number[] {
  const { runs, rounds } = file.options;
  const cells = cellsOf(file, id);
  const own = timesOf(cells.own);
  const theirs = timesOf(cells.theirs);
  if (own.length !== runs * rounds || theirs.length !== runs * rounds) return [];
  const round = (xs: readonly number[], r: number) => summarize(xs.slice(r * runs, (r + 1) * runs)).median;
  return Array.from({ length: rounds }, (_, r) => round(own, r) / round(theirs, r));
}

const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const column = (w: Workload) => (w.kind === 'recipe' ? 'recipe' : `720 px ${w.outputs[0].format.toUpperCase()}`);
const ids = [...new Set(results.flatMap((r) => r.workloads.map((w) => w.id)))].filter((id) => known.has(id));
const columns = [...new Set(ids.map((id) => column(known.get(id)!)))];

const pooled = new Map<string, number>();
const spread = new Map<string, readonly number[]>();
console.log(`| source | ${columns.join(' | ')} |`);
console.log(`| --- | ${columns.map(() => '---').join(' | ')} |`);
for (const input of Object.keys(SOURCE_KINDS) as InputId[]) {
  const cells = columns.map((col) => {
    const id = ids.find((i) => known.get(i)!.input === input && column(known.get(i)!) === col);
    const ratios = id === undefined ? [] : results.map((r) => cellRatio(r, id)).filter((x): x is number => x !== undefined);
    if (ratios.length === 0) return '-';
    pooled.set(id!, geomean(ratios));
    const rounds = results.flatMap((r) => roundRatios(r, id!));
    spread.set(id!, rounds);
    const over = rounds.filter((x) => x > 1).length;
    const range = byRound && rounds.length ? `, rounds ${Math.min(...rounds).toFixed(2)}-${Math.max(...rounds).toFixed(2)}, ${over} of ${rounds.length} over 1.00x` : '';
    return `**${geomean(ratios).toFixed(2)}x** (${ratios.map((x) => x.toFixed(2)).join(', ')}${range})`;
  });
  if (cells.some((c) => c !== '-')) console.log(`| ${SOURCE_KINDS[input]} | ${cells.join(' | ')} |`);
}

const summary = (label: string, ratioOf: (id: string) => number | undefined) => {
  const of = (recipe: boolean) => ids.filter((id) => (known.get(id)!.kind === 'recipe') === recipe).map(ratioOf).filter((x): x is number => x !== undefined);
  const over = ids.filter((id) => (ratioOf(id) ?? 0) > 1).map((id) => `${id} ${ratioOf(id)!.toFixed(2)}x`);
  console.log(`${label}: recipes ${geomean(of(true)).toFixed(3)}x, transforms ${geomean(of(false)).toFixed(3)}x; over 1.00x: ${over.join(', ') || 'none'}`);
};
console.log('');
results.forEach((r, k) => summary(files[k], (id) => cellRatio(r, id)));
summary(`pooled over ${files.length}`, (id) => pooled.get(id));
if (byRound) {
  const both = ids.filter((id) => (spread.get(id) ?? []).some((x) => x > 1) && (spread.get(id) ?? []).some((x) => x <= 1));
  const rounds = ids.map((id) => spread.get(id)?.length ?? 0);
  console.log(`rounds on both sides of 1.00x (${Math.min(...rounds)}-${Math.max(...rounds)} rounds a cell): ${both.length} of ${ids.length} cells: ${both.join(', ') || 'none'}`);
}
