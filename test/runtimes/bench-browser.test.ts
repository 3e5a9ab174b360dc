/**
 * The benchmark's browser row (bench/browser.ts) runs end to end: one timed run in Node and one in
 * Chromium's Web Worker, both through the built bundles. Times are reported, never asserted.
 */
import { describe, expect, it } from 'vitest';
import { benchBrowser, formatBrowserTable } from '../../bench/browser.js';
import { PHOTO, PHOTO_VARIANTS } from './harness.js';

describe('bench:browser', () => {
  it('returns one sample per runtime, the same variants from both, and a ratio of their medians', async () => {
    const result = await benchBrowser({ runs: 1, warmup: 0 });
    expect(result.input).toMatch(new RegExp(`${PHOTO.replace('.', '\\.')}$`));
    expect(result.recipe).toBe('default');
    for (const t of [result.node, result.chromium]) {
      expect(t.samples).toHaveLength(1);
      expect(t.samples[0]).toBeGreaterThan(0);
      expect(t.summary).toEqual({ n: 1, median: t.samples[0], min: t.samples[0], max: t.samples[0] });
      expect(t.variants.map(([key, w, h]) => [key.replace('photo', PHOTO.replace('.jpg', '')), w, h])).toEqual(PHOTO_VARIANTS);
    }
    expect(result.node.runtime).toBe('node');
    expect(result.chromium.runtime).toBe('chromium');
    expect(result.chromium.version).toMatch(/^\d+\.\d+/);
    expect(result.sameOutputs).toBe(true);
    expect(result.ratio).toBeCloseTo(result.chromium.summary.median / result.node.summary.median, 10);
    const table = formatBrowserTable(result);
    expect(table).toMatch(/^node v\d+.*1\.00x$/m);
    expect(table).toMatch(/^chromium \d.*\d\.\d\dx$/m);
  }, 120_000);

  it('refuses a run count that is not a positive integer, naming it', async () => {
    await expect(benchBrowser({ runs: 0 })).rejects.toThrow('Expected an integer >= 1 for runs but received 0');
  });
});
