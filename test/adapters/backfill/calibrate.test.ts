import { describe, expect, it } from 'vitest';
import { extrapolate, fitFixedPlusPerByte, type Calibration } from '../../../adapters/backfill/calibrate.js';

describe('the calibration fit: a fixed cost per object plus a cost per byte', () => {
  it('recovers both rates from a sample of mostly small objects', () => {
    // 0.05 s per object + 0.2 s per MB, sizes 10 KB..2 MB, small ones most common.
    const points = [10e3, 12e3, 15e3, 20e3, 40e3, 80e3, 150e3, 400e3, 900e3, 2e6].map((bytes) => ({ bytes, seconds: 0.05 + 0.2e-6 * bytes }));
    const fit = fitFixedPlusPerByte(points);
    expect(fit.fixed).toBeCloseTo(0.05, 9);
    expect(fit.perByte).toBeCloseTo(0.2e-6, 15);
  });

  it('keeps both non-negative: a cost that falls with size is a fixed cost, one that is negative at zero is per byte', () => {
    expect(fitFixedPlusPerByte([{ bytes: 1, seconds: 2 }, { bytes: 3, seconds: 1 }])).toEqual({ fixed: 1.5, perByte: 0 });
    expect(fitFixedPlusPerByte([{ bytes: 10, seconds: 0.5 }, { bytes: 20, seconds: 2 }])).toEqual({ fixed: 0, perByte: 2.5 / 30 });
    expect(fitFixedPlusPerByte([])).toEqual({ fixed: 0, perByte: 0 });
  });

  it("extrapolates from the job's exact counts and bytes per kind, a kind not sampled at the whole sample's rate", () => {
    const c: Calibration = {
      objects: 4, concurrency: 2, threads: 2, startupSeconds: 0.5, warmUpObjects: 4, seconds: 1, bytes: 4e6,
      fixedSeconds: 0.02, secondsPerByte: 1e-7,
      kinds: { jpeg: { objects: 4, bytes: 4e6, megapixels: 8, seconds: 1, secondsPerByte: 2e-7 } },
    };
    const r = extrapolate(c, { jpeg: 1000, gif: 10 }, { jpeg: 5e8, gif: 1e6 });
    expect(r.byKind.jpeg).toBeCloseTo(1000 * 0.02 + 5e8 * 2e-7, 9);
    expect(r.byKind.gif).toBeCloseTo(10 * 0.02 + 1e6 * 1e-7, 9);
    expect(r.seconds).toBeCloseTo(0.5 + r.byKind.jpeg + r.byKind.gif, 9);
  });
});
