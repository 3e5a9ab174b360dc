/**
 * `imgpipe backfill plan` over an OSS inventory of 1,000,000 keys (generated here, never committed:
 * ten CSV.gz files and a manifest.json in the local server's inventory bucket, 1,000 of the keys with
 * an up-to-date-looking manifest in the target so the HEAD path is exercised). Runs the real CLI as a
 * child process under /usr/bin/time and reports wall time and peak RSS.
 *
 *   npx tsx bench/backfill-inventory.ts [--keys 1000000]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startLocalOss } from '../adapters/local-oss/server.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const KEYS = arg('keys', 1_000_000);
const FILES = 10;
const credential = { accessKeyId: 'LTAIbenchinventory1', accessKeySecret: 'bench-inventory-secret' };

const root = await mkdtemp(join(tmpdir(), 'imgpipe-inv-bench-'));
const server = await startLocalOss({ root, buckets: ['photos', 'photos-out', 'inventory'], credentials: [credential] });
try {
  // One real object so the source prefix is not empty; the rest exist only in the inventory.
  await server.storage('photos').put('uploads/0/real.jpg', new Uint8Array([0xff, 0xd8, 0xff]));
  const t0 = performance.now();
  const files: { key: string; size: number; MD5checksum: string }[] = [];
  const perFile = Math.ceil(KEYS / FILES);
  const exts = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'txt', 'JPG', 'heic'];
  for (let f = 0; f < FILES; f++) {
    const rows: string[] = [];
    for (let i = f * perFile; i < Math.min(KEYS, (f + 1) * perFile); i++) {
      const key = `uploads/${String(i % 997).padStart(3, '0')}/photo ${i}+é.${exts[i % exts.length]}`;
      const etag = createHash('md5').update(String(i)).digest('hex').toUpperCase();
      rows.push(`"photos","${encodeURIComponent(key).replace(/%20/g, '+')}","${100_000 + (i % 5_000_000)}","2026-12-01T00:00:00.000Z","${etag}","Standard","false"`);
    }
    const bytes = gzipSync(`${rows.join('\n')}\n`);
    const key = `inv/photos/daily/2026-12-01T00-00Z/data/${f}.csv.gz`;
    await server.storage('inventory').put(key, bytes);
    files.push({ key, size: bytes.length, MD5checksum: createHash('md5').update(bytes).digest('hex').toUpperCase() });
  }
  const manifest = { creationTimestamp: '1764547200', destinationBucket: 'inventory', fileFormat: 'CSV', fileSchema: 'Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded', files, sourceBucket: 'photos', version: '2019-09-01' };
  await server.storage('inventory').put('inv/photos/daily/2026-12-01T00-00Z/manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
  // 1,000 manifests in the target (every 1000th key): the plan HEADs exactly these.
  for (let i = 0; i < KEYS; i += Math.max(1, Math.floor(KEYS / 1000))) {
    const key = `uploads/${String(i % 997).padStart(3, '0')}/photo ${i}+é`;
    await server.storage('photos-out').put(`meta/${key}.json`, new TextEncoder().encode('{}'), { meta: { 'imgpipe-source-etag': 'X', 'imgpipe-recipe': 'Y' } });
  }
  const generated = (performance.now() - t0) / 1000;
  const gz = files.reduce((n, f) => n + f.size, 0);
  console.log(`generated ${KEYS.toLocaleString()} keys in ${FILES} CSV.gz files (${(gz / 1e6).toFixed(1)} MB) in ${generated.toFixed(1)} s`);

  // The CLI in a child process (this process serves the local OSS meanwhile), timed by /usr/bin/time:
  // %e wall seconds, %M peak resident set in KB.
  const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M', process.execPath, '--import', pathToFileURL(join(REPO, 'node_modules/tsx/dist/esm/index.mjs')).href, join(REPO, 'adapters/cli/main.ts'),
    'backfill', 'plan', 'oss://photos/uploads/', '--target', 'oss://photos-out', '--inventory', 'oss://inventory/inv/photos/daily/2026-12-01T00-00Z/manifest.json', '--json'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ALIBABA_CLOUD_ACCESS_KEY_ID: credential.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: credential.accessKeySecret, IMGPIPE_OSS_ENDPOINT: server.endpoint },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const m = /TIME ([\d.]+) (\d+)/.exec(err);
  if (code !== 0 || !m) throw new Error(`plan failed (${code}): ${err.slice(-1000)}`);
  const plan = JSON.parse(out.trim().split('\n').pop()!) as { total: number; counts: Record<string, number>; heads: number; manifestsListed: number; ms: number };
  const result = { keys: KEYS, files: FILES, gzipBytes: gz, wallSeconds: Number(m[1]), peakRssMiB: Math.round(Number(m[2]) / 1024), planMs: plan.ms, total: plan.total, counts: plan.counts, heads: plan.heads, manifestsListed: plan.manifestsListed };
  console.log(JSON.stringify(result));
  if (plan.total !== KEYS) throw new Error(`expected ${KEYS} objects planned, got ${plan.total}`);
} finally {
  await server.close();
  await rm(root, { recursive: true, force: true });
}
