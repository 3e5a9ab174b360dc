import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { META_RECIPE, META_SOURCE_ETAG } from '../../../adapters/fc/loop.js';
import { recipeHash } from '../../../adapters/fc/recipe-hash.js';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';
import { DEFAULT_RECIPE, outputKey } from '../../../src/recipe.js';
import { cli, credential, lastJson, seedMixed, type Seeded } from './helpers.js';

let root: string;
let cwd: string;
let server: LocalOss;
let seeded: Seeded;
let env: Record<string, string>;
const SRC = 'oss://photos/uploads/';
const TARGET = ['--target', 'oss://photos-out'];

const outputsOf = (key: string) => [
  ...DEFAULT_RECIPE.sizes.flatMap((s) => DEFAULT_RECIPE.outputs.map((o) => outputKey(o.key, key, s.name, o.format))),
  outputKey('meta/{name}.json', key, 'manifest', 'jpeg'),
];

/** ETag and write time of every output of the up-to-date sets: a rewrite changes the time. */
async function snapshotUpToDate(): Promise<string[]> {
  const out: string[] = [];
  for (const k of seeded.expected['up-to-date']) {
    for (const o of outputsOf(k)) {
      const h = await server.storage('photos-out').head(o);
      out.push(`${o} ${h?.etag} ${h?.lastModified?.toISOString()}`);
    }
  }
  return out;
}

/** Every set that should exist after a backfill: a manifest and all variants for the current ETag and recipe. */
async function expectComplete(): Promise<void> {
  const hash = recipeHash(DEFAULT_RECIPE);
  const ok = [...seeded.expected.missing.filter((k) => !seeded.corrupt.includes(k)), ...seeded.expected.stale];
  for (const k of ok) {
    const etag = (await server.storage('photos').head(k))!.etag;
    for (const o of outputsOf(k)) {
      const h = await server.storage('photos-out').head(o);
      expect(h, `${o} of ${k}`).toBeDefined();
      expect(h!.meta[META_SOURCE_ETAG], o).toBe(etag);
      expect(h!.meta[META_RECIPE], o).toBe(hash);
    }
  }
  for (const k of seeded.corrupt) {
    const m = await server.storage('photos-out').head(outputKey('meta/{name}.json', k, 'manifest', 'jpeg'));
    expect(m?.meta['imgpipe-status'], k).toBe('failed');
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-backfill-'));
  cwd = await mkdtemp(join(tmpdir(), 'imgpipe-backfill-cwd-'));
  server = await startLocalOss({ root, buckets: ['photos', 'photos-out', 'inventory'], credentials: [credential] });
  seeded = await seedMixed(server, 'photos', 'photos-out');
  env = { IMGPIPE_OSS_ENDPOINT: server.endpoint };
}, 60_000);

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
});

describe('imgpipe backfill against the local server (real ali-oss)', () => {
  it('plan classifies formats, corrupt files, non-images, hostile keys, up-to-date and stale sets, and writes nothing', async () => {
    const puts = server.stats.PutObject ?? 0;
    const r = await cli(['backfill', 'plan', SRC, ...TARGET, '--json', '--calibrate-warm-up', '1'], { cwd, env });
    expect(r.code, r.stderr).toBe(0);
    const plan = lastJson(r.stdout) as { counts: Record<string, number>; reasons: Record<string, number>; estimate: { fc: { usd: number } } };
    const e = seeded.expected;
    expect(plan.counts).toEqual({ missing: e.missing.length, stale: e.stale.length, 'up-to-date': e['up-to-date'].length, skip: e.skip.length });
    expect(plan.reasons).toMatchObject({ 'stale:recipe-changed': 1, 'stale:source-changed': 1, 'skip:empty': 1, 'skip:not-an-image': 3 });
    expect(plan.estimate.fc.usd).toBeGreaterThan(0);
    // The local time is measured on a sample of the objects to process, per kind.
    const est = plan.estimate as unknown as { localFrom: string; localSeconds: number; calibration: { objects: number; fixedSeconds: number; secondsPerByte: number; kinds: Record<string, { objects: number; secondsPerByte: number }> } };
    expect(est.localFrom).toBe('calibration');
    expect(est.calibration.objects).toBe(Math.min(64, e.missing.length + e.stale.length));
    expect(Object.values(est.calibration.kinds).reduce((a, k) => a + k.objects, 0)).toBe(est.calibration.objects);
    expect(est.calibration.fixedSeconds + est.calibration.secondsPerByte).toBeGreaterThan(0);
    expect(est.calibration.kinds.jpeg.secondsPerByte).toBeGreaterThanOrEqual(0);
    expect(est.localSeconds).toBeGreaterThan(0);
    expect(server.stats.PutObject ?? 0).toBe(puts);
    // The human form shows the estimate's inputs.
    const text = await cli(['backfill', 'plan', SRC, ...TARGET, '--calibrate-warm-up', '0'], { cwd, env });
    expect(text.stdout).toMatch(/ms\/MP per object/);
    expect(text.stdout).toMatch(/from a calibration on this machine: the recipe on \d+ sampled objects/);
    expect(text.stdout).toMatch(/fitted: [\d.]+ s per object/);
    expect(text.stdout).toMatch(/jpeg +\d+ objects, .* x [\d.]+ s\/MB/);
    expect(text.stdout).toMatch(/USD 0\.00002\/CU/);
  }, 60_000);

  it('plan reads an OSS inventory (manifest.json + CSV.gz, URL-encoded keys) to the same counts', async () => {
    const rows: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await server.storage('photos').list({ prefix: 'uploads/', startAfter: marker });
      for (const o of page.objects) rows.push(['photos', encodeURIComponent(o.key).replace(/%20/g, '+'), String(o.size), '2026-12-01T00:00:00Z', `"${o.etag}"`, 'Standard'].map((f) => `"${f.replace(/"/g, '""')}"`).join(','));
      if (!page.nextStartAfter) break;
      marker = page.nextStartAfter;
    }
    const half = Math.ceil(rows.length / 2);
    const files = [rows.slice(0, half), rows.slice(half)].map((part, i) => ({ key: `inv/data/${i}.csv.gz`, bytes: gzipSync(`${part.join('\n')}\n`) }));
    for (const f of files) await server.storage('inventory').put(f.key, f.bytes);
    const manifest = { sourceBucket: 'photos', destinationBucket: 'inventory', fileFormat: 'CSV', fileSchema: 'Bucket, Key, Size, LastModifiedDate, ETag, StorageClass', files: files.map((f) => ({ key: f.key, size: f.bytes.length, MD5checksum: createHash('md5').update(f.bytes).digest('hex').toUpperCase() })), version: '2019-09-01' };
    await server.storage('inventory').put('inv/manifest.json', Buffer.from(JSON.stringify(manifest)));
    const r = await cli(['backfill', 'plan', SRC, ...TARGET, '--inventory', 'oss://inventory/inv/manifest.json', '--json', '--calibrate-warm-up', '0'], { cwd, env });
    expect(r.code, r.stderr).toBe(0);
    const e = seeded.expected;
    expect(lastJson(r.stdout).counts).toEqual({ missing: e.missing.length, stale: e.stale.length, 'up-to-date': e['up-to-date'].length, skip: e.skip.length });
  }, 60_000);

  it('refuses bad input before any work, with a typed error that says what to do', async () => {
    const puts = server.stats.PutObject ?? 0;
    const refused = async (args: string[], code: string, message: RegExp, extraEnv: Record<string, string> = {}) => {
      const r = await cli(['backfill', ...args, '--json'], { cwd, env: { ...env, ...extraEnv } });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      const err = lastJson(r.stdout).error as { code: string; message: string };
      expect(err.code, err.message).toBe(code);
      expect(err.message).toMatch(message);
    };
    await refused(['plan', 'oss://no-such-bucket/x/'], 'NOT_FOUND', /bucket "no-such-bucket" does not exist/);
    await refused(['plan', 'oss://photos/nothing-here/'], 'NOT_FOUND', /No objects under oss:\/\/photos\/nothing-here\//);
    await refused(['plan', SRC], 'ACCESS_DENIED', /refused the credentials.*ALIBABA_CLOUD_ACCESS_KEY_ID/, { ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong' });
    await refused(['plan', SRC, ...TARGET, '--target', 'oss://photos-missing'], 'NOT_FOUND', /target bucket "photos-missing" does not exist/);
    // A malformed manifest, a manifest of another bucket, a CSV row that does not fit the schema, gzip that is not.
    await server.storage('inventory').put('bad/manifest.json', Buffer.from('{"sourceBucket":"photos","fileFormat":"CSV"}'));
    await refused(['plan', SRC, '--inventory', 'oss://inventory/bad/manifest.json'], 'INVALID_ARGUMENT', /Malformed OSS inventory manifest .*fileSchema/);
    await server.storage('inventory').put('other/manifest.json', Buffer.from(JSON.stringify({ sourceBucket: 'elsewhere', fileFormat: 'CSV', fileSchema: 'Bucket, Key, Size, ETag', files: [{ key: 'x.csv' }] })));
    await refused(['plan', SRC, '--inventory', 'oss://inventory/other/manifest.json'], 'INVALID_ARGUMENT', /lists bucket "elsewhere"/);
    await server.storage('inventory').put('csv/data.csv', Buffer.from('"photos","uploads%2Fa.jpg","12","9E107D9D372BB6826BD81D3542A419D6"\n"photos","uploads%2Fb.jpg","twelve"\n'));
    await server.storage('inventory').put('csv/manifest.json', Buffer.from(JSON.stringify({ sourceBucket: 'photos', fileFormat: 'CSV', fileSchema: 'Bucket, Key, Size, ETag', files: [{ key: 'csv/data.csv' }] })));
    await refused(['plan', SRC, '--inventory', 'oss://inventory/csv/manifest.json'], 'INVALID_ARGUMENT', /csv\/data\.csv line 2: expected 4 comma-separated fields/);
    await server.storage('inventory').put('gz/data.csv.gz', Buffer.from('not gzip at all'));
    await server.storage('inventory').put('gz/manifest.json', Buffer.from(JSON.stringify({ sourceBucket: 'photos', fileFormat: 'CSV', fileSchema: 'Bucket, Key, Size, ETag', files: [{ key: 'gz/data.csv.gz' }] })));
    await refused(['run', SRC, ...TARGET, '--local', '--job', 'gz-job', '--inventory', 'oss://inventory/gz/manifest.json'], 'INVALID_ARGUMENT', /Malformed inventory file .*not gzip/);
    // A recipe file that does not validate.
    const recipeFile = join(cwd, 'bad-recipe.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(recipeFile, JSON.stringify({ sizes: [], outputs: [] })));
    await refused(['run', SRC, ...TARGET, '--local', '--job', 'bad-recipe', '--recipe', recipeFile], 'INVALID_ARGUMENT', /recipe file .* does not validate: Expected a non-empty array of sizes for recipe.sizes/);
    // Nothing was written and no job was created.
    expect(server.stats.PutObject ?? 0).toBe(puts);
    await expect(stat(join(cwd, '.imgpipe-backfill/bad-recipe'))).rejects.toThrow();
    await expect(stat(join(cwd, '.imgpipe-backfill/gz-job/job.json'))).rejects.toThrow();
  }, 120_000);

  it('run --local survives SIGKILL, resume finishes exactly the missing and stale objects, and the report lists every failure', async () => {
    const before = await snapshotUpToDate();
    // Killed as soon as a progress line shows results on disk: once in the run, once in the first resume.
    const killOnProgress = (chunk: string, child: import('node:child_process').ChildProcess) => {
      if (chunk.includes('"event":"progress"')) child.kill('SIGKILL');
    };
    const recorded = async () => (await readFile(join(cwd, '.imgpipe-backfill/kill2/records.jsonl'), 'utf8')).split('\n').filter(Boolean).length;
    const r1 = await cli(['backfill', 'run', SRC, ...TARGET, '--local', '--job', 'kill2', '--chunk', '1', '--json'], { cwd, env, onStdout: killOnProgress });
    expect(r1.signal).toBe('SIGKILL');
    const afterFirst = await recorded();
    const r2 = await cli(['backfill', 'resume', 'kill2', '--local', '--json'], { cwd, env, onStdout: killOnProgress });
    expect(r2.signal).toBe('SIGKILL');
    const partial = await recorded();
    expect(partial).toBeGreaterThan(afterFirst);
    const resumed = await cli(['backfill', 'resume', 'kill2', '--local', '--json'], { cwd, env });
    expect(resumed.code, resumed.stderr).toBe(1);
    const end = lastJson(resumed.stdout);
    const e = seeded.expected;
    expect(end).toMatchObject({ event: 'end', status: 'completed', total: e.missing.length + e.stale.length, failed: seeded.corrupt.length });
    expect(partial).toBeLessThan(e.missing.length + e.stale.length);
    await expectComplete();
    expect(await snapshotUpToDate()).toEqual(before);

    const report = await cli(['backfill', 'report', 'kill2', '--json'], { cwd, env });
    const summary = lastJson(report.stdout) as { counts: Record<string, number>; dir: string; manifest: { Results: { Key: string; MD5Checksum: string }[]; ReportSchema: string } };
    expect(summary.counts).toEqual({ total: e.missing.length + e.stale.length, succeeded: e.missing.length + e.stale.length - seeded.corrupt.length, failed: seeded.corrupt.length, pending: 0 });
    const failed = await readFile(join(summary.dir, 'failed.csv'), 'utf8');
    for (const k of seeded.corrupt) expect(failed).toMatch(new RegExp(`^photos,${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')},[0-9A-F]{32},PermanentFailure,(CORRUPT_IMAGE|UNSUPPORTED_FORMAT),`, 'm'));
    const succeeded = await readFile(join(summary.dir, 'succeeded.csv'), 'utf8');
    // A hostile key survives the CSV: quoted, with its quote doubled.
    expect(succeeded).toContain('"uploads/hostile/quote""comma,semi;.jpg"');
    expect(summary.manifest.ReportSchema).toBe('Bucket, Key, ETag, TaskStatus, ErrorCode, ResultMessage, Outputs');
    const index = JSON.parse(await readFile(join(summary.dir, 'manifest.json'), 'utf8'));
    expect(index.Results.map((x: { Key: string }) => x.Key).sort()).toEqual(['report/failed.csv', 'report/succeeded.csv']);
    expect(index.Results.find((x: { Key: string }) => x.Key === 'report/failed.csv').MD5Checksum).toBe(createHash('md5').update(failed).digest('hex'));
    const failedOnly = lastJson((await cli(['backfill', 'report', 'kill2', '--failed-only', '--json'], { cwd, env })).stdout) as { manifest: { Results: { Key: string }[] } };
    expect(failedOnly.manifest.Results.map((x) => x.Key)).toEqual(['report/failed.csv']);

    // A second run over the finished bucket has nothing to do.
    const again = await cli(['backfill', 'plan', SRC, ...TARGET, '--json'], { cwd, env });
    expect(lastJson(again.stdout).counts).toEqual({ missing: 0, stale: 0, 'up-to-date': e.missing.length + e.stale.length + e['up-to-date'].length, skip: e.skip.length });
  }, 180_000);

  it('refuses a job folder copied from another job, and a job id that exists', async () => {
    await cp(join(cwd, '.imgpipe-backfill/kill2'), join(cwd, '.imgpipe-backfill/copied'), { recursive: true });
    const r = await cli(['backfill', 'resume', 'copied', '--local', '--json'], { cwd, env });
    expect(r.code).toBe(2);
    expect(lastJson(r.stdout).error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/holds job "kill2", not "copied"/) });
    const dup = await cli(['backfill', 'run', SRC, ...TARGET, '--local', '--job', 'kill2', '--json'], { cwd, env });
    expect(dup.code).toBe(2);
    expect(lastJson(dup.stdout).error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/already exists.*resume kill2/) });
    const none = await cli(['backfill', 'report', 'nope', '--json'], { cwd, env });
    expect(lastJson(none.stdout).error).toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);
});
