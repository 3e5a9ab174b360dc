/**
 * What a source read costs the serving process, with and without `storageSource`'s `cacheBytes`: the
 * standard photo (829 KB) read through the local store N times as the HTTP handler reads it (a HEAD
 * for the byte limit, then the bytes), and, for the kept source, the copy a pool worker gets in place of
 * the moved buffer. CPU is the process's (`process.cpuUsage()`: the main thread and libuv's file
 * threads), per read; the two modes alternate, three rounds each.
 *
 *   npx tsx bench/source-cache.ts [--reads 400]
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createFsStorage } from '../adapters/storage.js';
import { storageSource } from '../adapters/http/source.js';
import { INPUTS } from './inputs.js';

const { values } = parseArgs({ options: { reads: { type: 'string', default: '400' } } });
const reads = Number(values.reads);
const dir = join(tmpdir(), `imgpipe-source-cache-${process.pid}`);
mkdirSync(join(dir, 'bench'), { recursive: true });
copyFileSync(INPUTS.photo.path, join(dir, 'bench', 'photo.jpg'));
const storage = createFsStorage({ root: dir, bucket: 'bench' });

async function round(cacheBytes: number): Promise<number> {
  const source = storageSource(storage, { cacheBytes });
  await source.get('photo.jpg', { maxBytes: 64 << 20 }); // the record derived, the source kept
  const before = process.cpuUsage();
  for (let i = 0; i < reads; i++) {
    const object = await source.get('photo.jpg', { maxBytes: 64 << 20 });
    // What the pool does with bytes it may not move (pool/index.ts): one copy.
    if (!object.transferable) object.bytes.slice();
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / reads;
}

const rows: Record<string, number[]> = { none: [], '64 MB': [] };
for (let r = 0; r < 3; r++) {
  rows.none.push(await round(0));
  rows['64 MB'].push(await round(64 << 20));
}
rmSync(dir, { recursive: true, force: true });
for (const [mode, ms] of Object.entries(rows)) console.log(`cacheBytes ${mode}: ${ms.map((m) => m.toFixed(3)).join(', ')} ms CPU per read`);
