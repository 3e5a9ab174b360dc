import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasmProjects } from '../../scripts/build-wasm.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KERNELS = join(ROOT, 'wasm/kernels/build/imgpipe_kernels.wasm');

/** Every AssemblyScript project's release output, as its asconfig.json names it. */
const PROJECTS = wasmProjects().map((config) => {
  const json = JSON.parse(readFileSync(join(ROOT, config), 'utf8')) as { targets: { release: { outFile: string } } };
  return { config, committed: join(ROOT, dirname(config), json.targets.release.outFile) };
});

describe('WebAssembly builds', () => {
  it('finds the kernel project among the wasm/ projects', () => {
    expect(PROJECTS.map((p) => p.config)).toContain('wasm/kernels/asconfig.json');
  });

  // The built modules are committed so the package works from a plain checkout; that is only honest
  // while building the sources reproduces them byte for byte (asc is pinned by the lockfile).
  it.each(PROJECTS)('rebuilding $config reproduces the committed module exactly', ({ config, committed }) => {
    const dir = mkdtempSync(join(tmpdir(), 'imgpipe-wasm-'));
    try {
      const out = join(dir, basename(committed));
      execFileSync(join(ROOT, 'node_modules/.bin/asc'), ['--config', config, '--target', 'release', '--outFile', out], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      expect(Buffer.compare(readFileSync(out), readFileSync(committed))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the kernel module imports nothing and exports its memory, allocator, stepped and streamed resize, the sRGB conversion, the Gaussian blur and the blind watermark\'s embedding and extraction', () => {
    const module = new WebAssembly.Module(readFileSync(KERNELS));
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(['BAND_ROWS', 'FLAG_ALPHA', 'FLAG_LINEAR', 'SRGB_ENCODE_STEPS', 'alloc', 'begin', 'beginSideways', 'blindBegin', 'blindCappedEnergy', 'blindCappedRounded', 'blindClipped', 'blindFft', 'blindFold', 'blindFolded', 'blindHalf', 'blindIm', 'blindLattice', 'blindLuma', 'blindPixels', 'blindRe', 'blindReadBegin', 'blindResidual', 'blindRowsAdd', 'blindRowsLuma', 'blindRowsMask', 'blindSetCap', 'blindSpectra', 'blindSums', 'blindSyncBegin', 'blindSyncPair', 'blindTotal', 'blindWhitenBegin', 'blindWhitenStep', 'canStream', 'canStreamSideways', 'drain', 'feed', 'gaussianBegin', 'gaussianStep', 'input', 'memory', 'reset', 'result', 'srgbColumns', 'srgbEncode', 'srgbLinear', 'step', 'toSrgb', 'window']);
  });
});
