import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMMITTED = join(ROOT, 'wasm/kernels/build/imgpipe_kernels.wasm');

describe('kernel build', () => {
  // The built module is committed so the package works from a plain checkout; that is only honest
  // while building the sources reproduces it byte for byte (asc is pinned by the lockfile).
  it('rebuilding wasm/kernels reproduces the committed imgpipe_kernels.wasm exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgpipe-kernels-'));
    try {
      const out = join(dir, 'imgpipe_kernels.wasm');
      execFileSync(join(ROOT, 'node_modules/.bin/asc'), ['--config', 'wasm/kernels/asconfig.json', '--target', 'release', '--outFile', out], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      expect(Buffer.compare(readFileSync(out), readFileSync(COMMITTED))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports nothing and exports its memory, allocator and resize entry', () => {
    const module = new WebAssembly.Module(readFileSync(COMMITTED));
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(['FLAG_LINEAR', 'alloc', 'memory', 'reset', 'resize']);
  });
});
