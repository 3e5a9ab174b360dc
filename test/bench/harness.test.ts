/**
 * The benchmark's pieces: SSIM (against ssim.js's port of the reference MATLAB code), the FC cost
 * arithmetic, the stats, the table, the SVG writer, and the child process runner. No timings are
 * asserted here.
 */
import { describe, expect, it } from 'vitest';
import { ssim as ssimJs } from 'ssim.js';
import { FC_PRICING, fcCostPer10k, fcMemoryMiB } from '../../bench/cost.js';
import { gaussianKernel, luma, ssim, ssimLuma, type PixelBuffer } from '../../bench/ssim.js';
import { formatTable, summarize } from '../../bench/stats.js';
import { escapeXml, renderBarChart } from '../../bench/svg.js';
import { workloads } from '../../bench/workloads.js';
import { runChild } from '../../bench/spawn.js';
import { fileURLToPath } from 'node:url';

/** A deterministic grey test card: gradients plus a checkerboard, so there is structure to lose. */
function card(width: number, height: number): Uint8Array {
  const g = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const checker = ((x >> 3) + (y >> 3)) % 2 === 0 ? 40 : 0;
      g[y * width + x] = Math.min(255, Math.round((x * 200) / width + (y * 15) / height) + checker);
    }
  }
  return g;
}

/** Deterministic pseudo-random noise in [-amp, amp] (xorshift), so the test never flakes. */
function noisy(src: Uint8Array, amp: number, seed = 12345): Uint8Array {
  let s = seed >>> 0;
  return src.map((v) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return Math.max(0, Math.min(255, v + ((s % (2 * amp + 1)) - amp)));
  });
}

function blurred(src: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, n = 0;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < w && yy < h) { s += src[yy * w + xx]; n++; }
      }
      out[y * w + x] = Math.round(s / n);
    }
  }
  return out;
}

function greyToRgba(g: Uint8Array, width: number, height: number): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(width * height * 4);
  g.forEach((v, i) => data.set([v, v, v, 255], i * 4));
  return { width, height, data };
}

const reference = (a: Uint8Array, b: Uint8Array, w: number, h: number): number =>
  ssimJs(greyToRgba(a, w, h), greyToRgba(b, w, h), { ssim: 'original', downsample: false, rgb2grayVersion: 'original', windowSize: 11 }).mssim;

const grey = (data: Uint8Array, width: number, height: number): PixelBuffer => ({ width, height, channels: 1, data });

describe('ssim', () => {
  const w = 64, h = 48;
  const a = card(w, h);

  it('is exactly 1 for identical images', () => {
    expect(ssim(grey(a, w, h), grey(a, w, h))).toBeCloseTo(1, 12);
  });

  it('matches ssim.js (the MATLAB reference port) on noisy and blurred copies', () => {
    for (const b of [noisy(a, 20), noisy(a, 60, 777), blurred(a, w, h)]) {
      const ours = ssim(grey(a, w, h), grey(b, w, h));
      expect(ours).toBeLessThan(0.99);
      expect(ours).toBeCloseTo(reference(a, b, w, h), 6);
    }
  });

  it('ranks heavier damage lower and is symmetric', () => {
    const light = ssim(grey(a, w, h), grey(noisy(a, 10), w, h));
    const heavy = ssim(grey(a, w, h), grey(noisy(a, 60), w, h));
    expect(light).toBeGreaterThan(heavy);
    const b = blurred(a, w, h);
    expect(ssim(grey(a, w, h), grey(b, w, h))).toBeCloseTo(ssim(grey(b, w, h), grey(a, w, h)), 12);
  });

  it('uses Rec.601 luma for RGB and ignores alpha', () => {
    const px: PixelBuffer = { width: 2, height: 1, channels: 4, data: new Uint8Array([255, 0, 0, 0, 0, 0, 255, 255]) };
    const y = luma(px);
    expect(y[0]).toBeCloseTo(0.299 * 255, 4);
    expect(y[1]).toBeCloseTo(0.114 * 255, 4);
  });

  it('has a normalised Gaussian window', () => {
    const k = gaussianKernel(11, 1.5);
    expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(k[5]).toBeGreaterThan(k[4]);
    expect(k[0]).toBeCloseTo(k[10], 15);
    expect(() => gaussianKernel(10, 1.5)).toThrow('Expected an odd positive window size but received 10');
  });

  it('refuses mismatched sizes and images smaller than the window, saying what it got', () => {
    expect(() => ssim(grey(a, w, h), grey(card(32, 48), 32, 48))).toThrow('Expected images of the same size but received 64x48 and 32x48');
    expect(() => ssimLuma(new Float32Array(100), new Float32Array(100), 10, 10)).toThrow(
      'Expected an image of at least 11x11 but received 10x10',
    );
  });
});

describe('FC cost', () => {
  it('rounds peak memory up to the next 64 MiB step, never below 128 MiB', () => {
    expect(fcMemoryMiB(0)).toBe(128);
    expect(fcMemoryMiB(100 * 2 ** 20)).toBe(128);
    expect(fcMemoryMiB(128 * 2 ** 20)).toBe(128);
    expect(fcMemoryMiB(128 * 2 ** 20 + 1)).toBe(192);
    expect(fcMemoryMiB(466 * 2 ** 20)).toBe(512);
    expect(() => fcMemoryMiB(-1)).toThrow('Expected a peak RSS in bytes >= 0 but received -1');
  });

  it('prices 10,000 uploads as GiB-seconds plus invocations', () => {
    // 1 s at 1024 MiB = 1 GiB-s per upload = 10,000 GiB-s per 10k uploads.
    const c = fcCostPer10k(1000, 1000 * 2 ** 20);
    expect(c.memoryMiB).toBe(1024);
    expect(c.gibSecondsPer10k).toBeCloseTo(10_000, 9);
    expect(c.computeCnyPer10k).toBeCloseTo(1.10592, 9);
    expect(c.totalCnyPer10k).toBeCloseTo(1.10592 + 0.0133, 9);
    // 300 ms at 192 MiB: 0.1875 GiB x 0.3 s x 10,000 = 562.5 GiB-s.
    const s = fcCostPer10k(300, 150 * 2 ** 20);
    expect(s.gibSecondsPer10k).toBeCloseTo(562.5, 9);
    expect(s.computeCnyPer10k).toBeCloseTo(562.5 * FC_PRICING.cnyPerGiBSecond, 12);
  });

  it('bills whole milliseconds', () => {
    expect(fcCostPer10k(250.2, 0).billedMs).toBe(251);
    expect(() => fcCostPer10k(Number.NaN, 0)).toThrow('Expected a duration in ms >= 0 but received NaN');
  });
});

describe('stats and table', () => {
  it('takes median and min, odd and even counts', () => {
    expect(summarize([5, 1, 3])).toEqual({ n: 3, median: 3, min: 1, max: 5 });
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
    expect(() => summarize([])).toThrow('Expected at least one sample but received none');
  });

  it('aligns figures right, words left, and lets note rows run past the columns', () => {
    const t = formatTable(['name', 'ms'], [['sharp', '5'], ['imgpipe', '120'], ['jimp: cannot do WebP']]).split('\n');
    expect(t[0]).toBe('name     ms');
    expect(t[2]).toBe('sharp      5');
    expect(t[3]).toBe('imgpipe  120');
    expect(t[4]).toBe('jimp: cannot do WebP');
  });
});

describe('svg chart', () => {
  const spec = {
    title: 'A & B <test>',
    unit: 'ms',
    series: ['1 thread', 'all cores'],
    groups: [
      {
        title: 'recipe',
        rows: [
          { label: 'imgpipe', values: [200, 100], mins: [190, 95], highlight: true },
          { label: 'sharp', values: [100, 50] },
          { label: 'jimp', values: [undefined, undefined], note: 'cannot: no WebP' },
        ],
      },
    ],
  };

  it('escapes text', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
    const svg = renderBarChart(spec);
    expect(svg).toContain('A &amp; B &lt;test&gt;');
    expect(svg).not.toContain('<test>');
  });

  it('draws bars proportional to the values within a group, a min tick, and notes for missing rows', () => {
    const svg = renderBarChart(spec);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const widths = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="14"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(4);
    const [imgSingle, imgAll, sharpSingle, sharpAll] = widths;
    expect(imgSingle / sharpSingle).toBeCloseTo(2, 2);
    expect(imgAll / sharpAll).toBeCloseTo(2, 2);
    expect(imgSingle / imgAll).toBeCloseTo(2, 2);
    expect(svg.match(/<line /g)).toHaveLength(2);
    expect(svg).toContain('cannot: no WebP');
    expect(svg).toContain('200 ms');
    expect(svg).toMatch(/font-weight="bold">imgpipe</);
  });
});

describe('workloads', () => {
  it('asks every competitor for the recipe: 3 sizes x JPEG q85 + WebP q80, watermark only when asked', () => {
    const [recipe] = workloads({ watermark: false });
    expect(recipe.outputs.map((o) => `${o.name}:${o.width}:${o.quality}`)).toEqual([
      'large.jpg:1200:85', 'large.webp:1200:80', 'medium.jpg:600:85', 'medium.webp:600:80', 'thumb.jpg:150:85', 'thumb.webp:150:80',
    ]);
    expect(recipe.outputs.some((o) => o.watermark)).toBe(false);
    const marked = workloads({ watermark: true })[0].outputs.filter((o) => o.watermark).map((o) => o.size);
    expect(new Set(marked)).toEqual(new Set(['large', 'medium']));
  });
});

describe('child processes', () => {
  const input = fileURLToPath(new URL('../fixtures/images/320x240.jpg', import.meta.url));

  it('run the bundled child under plain node: imgpipe from the built package makes the six variants', async () => {
    const [recipe] = workloads({ watermark: false });
    const { result } = await runChild({ competitor: 'imgpipe', workload: recipe, inputPath: input, threads: 'single', runs: 1, warmup: 0 });
    if (!result.ok) throw new Error(result.error);
    // The test command builds first, so the child must have found an up-to-date dist/.
    expect(result.settings).toContain('imgpipe from dist/node.js (built package, up to date with the sources)');
    expect(result.outputs.map((o) => `${o.name} ${o.width}x${o.height}`)).toEqual([
      'large.jpg 320x240', 'large.webp 320x240', 'medium.jpg 320x240', 'medium.webp 320x240', 'thumb.jpg 150x112', 'thumb.webp 150x112',
    ]);
    expect(result.samplesMs).toHaveLength(1);
    expect(result.firstDoneMs).toBeGreaterThan(result.firstRunMs);
    // One probe per timed run. The threads' CPU, read per thread, adds up to the process's (so no
    // thread goes unaccounted); this early run still has V8's background compiles beside the main thread.
    expect(result.probes).toHaveLength(1);
    const [probe] = result.probes;
    const threads = probe.mainThreadCpuMs! + Object.values(probe.otherThreadsCpuMs).reduce((a, b) => a + b, 0);
    expect(probe.mainThreadCpuMs).toBeGreaterThan(0);
    expect(threads).toBeGreaterThan(0.75 * probe.cpuMs - 5);
    expect(threads).toBeLessThan(1.25 * probe.cpuMs + 5);
    expect(probe.minorFaults).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('report a child that fails as a result, not a crash of the run', async () => {
    const [recipe] = workloads({ watermark: false });
    const { result } = await runChild({ competitor: 'no-such-library', workload: recipe, inputPath: input, threads: 'single', runs: 0, warmup: 0 });
    expect(result).toEqual({ ok: false, error: 'Error: unknown competitor no-such-library' });
  }, 60_000);
});
