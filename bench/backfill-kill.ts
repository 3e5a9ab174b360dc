/**
 * Kill-and-resume: `imgpipe backfill run --local` is SIGKILLed at a random moment 20 times (the run,
 * then each resume), and finally resumed to completion. After every kill and at the end, checks that
 * no set has a manifest without all its variants for the same ETag and recipe (a manifest is written
 * last), and that no up-to-date set was rewritten; at the end, that every missing and stale object has
 * its complete set and every corrupt one its error manifest.
 *
 *   npx tsx bench/backfill-kill.ts [--kills 20] [--objects 160]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createUploadHandler } from '../adapters/fc/handler.js';
import { recipeHash } from '../adapters/fc/recipe-hash.js';
import { startLocalOss } from '../adapters/local-oss/server.js';
import { DEFAULT_RECIPE, outputKey } from '../src/recipe.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
const num = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const KILLS = num('kills', 20);
const N = num('objects', 160);
const credential = { accessKeyId: 'LTAIbenchkill000001', accessKeySecret: 'bench-kill-secret' };
let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);

const root = await mkdtemp(join(tmpdir(), 'imgpipe-kill-'));
const cwd = await mkdtemp(join(tmpdir(), 'imgpipe-kill-cwd-'));
const server = await startLocalOss({ root, buckets: ['photos', 'out'], credentials: [credential] });
const src = server.storage('photos');
const out = server.storage('out');
const hash = recipeHash(DEFAULT_RECIPE);
const outputsOf = (k: string) => DEFAULT_RECIPE.sizes.flatMap((s) => DEFAULT_RECIPE.outputs.map((o) => outputKey(o.key, k, s.name, o.format)));
const manifestOf = (k: string) => outputKey('meta/{name}.json', k, 'manifest', 'jpeg');

try {
  const imgs = await Promise.all(['320x240.jpg', 'Landscape_2.jpg', 'concert.jpg', 'tbgn2c16.png', 'big-height.webp'].map((f) => readFile(join(REPO, 'test/fixtures/images', f))));
  const bad = await readFile(join(REPO, 'test/fixtures/bad/truncated.jpg'));
  const keys: string[] = [];
  const corrupt: string[] = [];
  for (let i = 0; i < N; i++) {
    const k = `uploads/${i % 5}/${i % 9 === 0 ? 'spa ce+ü/' : ''}img-${i}.${['jpg', 'jpg', 'jpg', 'png', 'webp'][i % 5]}`;
    if (i % 17 === 5) {
      await src.put(k, bad);
      corrupt.push(k);
    } else await src.put(k, imgs[i % 5]);
    keys.push(k);
  }
  // Ten sets already up to date: their outputs must never be rewritten.
  const upload = createUploadHandler({ sourceBucket: 'photos', targetBucket: 'out', sourcePrefix: 'uploads/', env: { IMGPIPE_OSS_ENDPOINT: server.endpoint }, log: () => undefined });
  const done = keys.filter((k) => !corrupt.includes(k)).slice(0, 10);
  for (const k of done) {
    const etag = (await src.head(k))!.etag;
    await upload.handler(Buffer.from(JSON.stringify({ events: [{ eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', region: 'cn-hangzhou', oss: { bucket: { name: 'photos' }, object: { key: k, eTag: etag, size: 1 } }, responseElements: { requestId: k } }] })), { credentials: { ...credential } });
  }
  const snapshot = async () => (await Promise.all(done.flatMap((k) => [...outputsOf(k), manifestOf(k)].map(async (o) => `${o} ${(await out.head(o))?.lastModified?.toISOString()}`)))).join('\n');
  const before = await snapshot();

  /** No manifest without every variant for its ETag and recipe. */
  const checkSets = async (): Promise<number> => {
    let complete = 0;
    for (const k of keys) {
      const m = await out.head(manifestOf(k));
      if (!m || m.meta['imgpipe-status'] === 'failed') continue;
      for (const o of outputsOf(k)) {
        const h = await out.head(o);
        if (!h || h.meta['imgpipe-source-etag'] !== m.meta['imgpipe-source-etag'] || h.meta['imgpipe-recipe'] !== hash) throw new Error(`set of ${k} has a manifest but ${o} is missing or from another run`);
      }
      complete++;
    }
    return complete;
  };

  const run = (args: string[], killAfterMs?: number) => new Promise<{ code: number | null; signal: string | null; out: string }>((res) => {
    const c = spawn(process.execPath, ['--import', pathToFileURL(join(REPO, 'node_modules/tsx/dist/esm/index.mjs')).href, join(REPO, 'adapters/cli/main.ts'), ...args], {
      cwd, env: { PATH: process.env.PATH ?? '', ALIBABA_CLOUD_ACCESS_KEY_ID: credential.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: credential.accessKeySecret, IMGPIPE_OSS_ENDPOINT: server.endpoint },
    });
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    // The clock starts at the first progress line (a result is on disk): start-up time varies with load.
    c.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      if (killAfterMs !== undefined && timer === undefined && text.includes('"event":"progress"')) timer = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
    });
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, out: text });
    });
  });

  const records = async () => (await readFile(join(cwd, '.imgpipe-backfill/kill/records.jsonl'), 'utf8').catch(() => '')).split('\n').filter((l) => l.includes('"result"')).length;
  const log: { kill: number; afterMs: number; killed: boolean; results: number; completeSets: number }[] = [];
  for (let i = 0; i < KILLS; i++) {
    // Anywhere from right after the first result to a few objects later, mid-object included.
    const afterMs = Math.floor(rnd() * 4000);
    const args = i === 0 || !(await readFile(join(cwd, '.imgpipe-backfill/kill/job.json')).catch(() => undefined))
      ? ['backfill', 'run', 'oss://photos/uploads/', '--target', 'oss://out', '--local', '--job', 'kill', '--chunk', '1', '--json']
      : ['backfill', 'resume', 'kill', '--local', '--json'];
    const r = await run(args, afterMs);
    const entry = { kill: i + 1, afterMs, killed: r.signal === 'SIGKILL', results: await records(), completeSets: await checkSets() };
    log.push(entry);
    console.log(JSON.stringify(entry));
    // The job finished before the kill landed: nothing left to interrupt.
    if (!entry.killed) break;
  }
  const final = await run(['backfill', 'resume', 'kill', '--local', '--json']);
  const end = JSON.parse(final.out.trim().split('\n').pop()!) as { status: string; total: number; succeeded: number; failed: number };
  const complete = await checkSets();
  const untouched = (await snapshot()) === before;
  const expectedTasks = N - done.length;
  const result = { objects: N, kills: log.filter((l) => l.killed).length, end, completeSets: complete, expectedCompleteSets: N - corrupt.length, upToDateUntouched: untouched };
  console.log(JSON.stringify(result));
  if (end.status !== 'completed' || end.total !== expectedTasks || end.failed !== corrupt.length || complete !== N - corrupt.length || !untouched) {
    throw new Error('kill-and-resume left the bucket in a wrong state');
  }
  for (const k of corrupt) if ((await out.head(manifestOf(k)))?.meta['imgpipe-status'] !== 'failed') throw new Error(`no error manifest for ${k}`);
  console.log('ok: every set complete, every corrupt object recorded, no up-to-date set rewritten');
} finally {
  await server.close();
  await rm(root, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
}
