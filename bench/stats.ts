/** Summaries of timing samples. Median, not mean: one GC pause or a neighbour's burst skews a mean. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('Expected at least one sample but received none');
  const sorted = [...samples].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return Object.freeze({ n: sorted.length, median, min: sorted[0], max: sorted[sorted.length - 1] });
}

/**
 * Plain-text table for stdout: figures (cells starting with a digit or a sign) right-aligned, words
 * left-aligned. A row with fewer cells than headers is a note row: its last cell runs on past the
 * columns (a failure message) and doesn't widen them.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const spans = (r: readonly string[]) => r.length < headers.length;
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (spans(r) && i === r.length - 1 ? 0 : (r[i] ?? '').length))),
  );
  const numeric = /^[-+]?\d/;
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (spans(cells) && i === cells.length - 1 ? c : numeric.test(c) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Time each named function `runs` times after `warmup` discarded rounds, interleaved (one call of
 * each per round) so a neighbour's burst of load falls on every candidate alike. Returns each one's
 * samples and its last output.
 */
export async function interleaved<T>(
  candidates: Readonly<Record<string, () => Promise<T>>>,
  runs: number,
  warmup: number,
): Promise<Map<string, { samples: number[]; output: T }>> {
  const results = new Map<string, { samples: number[]; output: T }>();
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, run] of Object.entries(candidates)) {
      const t0 = performance.now();
      const output = await run();
      const elapsed = performance.now() - t0;
      const r = results.get(name) ?? { samples: [], output };
      if (i >= warmup) r.samples.push(elapsed);
      r.output = output;
      results.set(name, r);
    }
  }
  return results;
}

/** Table rows for `interleaved` encoders: median, min, ratio to `reference`'s median, bytes, and byte identity with it. */
export function encoderRows(results: Map<string, { samples: number[]; output: Uint8Array }>, reference: string): string[][] {
  const ref = results.get(reference)!;
  const refMedian = summarize(ref.samples).median;
  return [...results].map(([name, { samples, output }]) => {
    const s = summarize(samples);
    const same = output.length === ref.output.length && output.every((b, i) => b === ref.output[i]);
    return [name, s.median.toFixed(1), s.min.toFixed(1), (s.median / refMedian).toFixed(2), String(output.length), same ? 'yes' : 'no'];
  });
}
