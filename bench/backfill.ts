/**
 * Backfill against the local server: a bucket of mixed objects (JPEG, PNG, WebP, GIF at 160-1400 px
 * wide; corrupt files; non-images; hostile keys; sets already up to date; sets stale by recipe),
 * then, all in one run so the ratios compare like with like:
 *
 * 2. `plan --json` (must classify every object as generated) and its estimate for `run --local`
 *    (calibrated: the recipe on 64 sampled objects on this machine, after 4 untimed);
 * 3. `run --local` (child process, every core), measured wall time and images/s, and its report
 *    (every failure listed with its code);
 * 4. a sharp script doing the same recipe over the same objects (GET, three sizes, watermark on two,
 *    JPEG q85 + WebP q80, six PUTs and a manifest), two objects at a time;
 * 5. `run --invoke fc:imgpipe-upload` against the local FC endpoint into a second target.
 *
 *   npx tsx bench/backfill.ts [--objects 2000] [--no-sharp] [--no-invoke]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import OSS from 'ali-oss';
import sharp from 'sharp';
import { createUploadHandler } from '../adapters/fc/handler.js';
import { startLocalOss } from '../adapters/local-oss/server.js';
import { DEFAULT_RECIPE } from '../src/recipe.js';
import { createWorkerPool } from '../entries/node.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
const FIX = join(REPO, 'test/fixtures');
const flag = (name: string) => process.argv.includes(`--${name}`);
const num = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = num('objects', 2000);
const credential = { accessKeyId: 'LTAIbenchbackfill01', accessKeySecret: 'bench-backfill-secret' };
const threads = cpus().length;

// A seeded generator, so every run builds the same bucket.
let seed = 42;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);

const root = await mkdtemp(join(tmpdir(), 'imgpipe-backfill-bench-'));
const cwd = await mkdtemp(join(tmpdir(), 'imgpipe-backfill-bench-cwd-'));
let endpoint = '';
const pool = createWorkerPool({ threads });
const handlerFor = (target: string, recipe = DEFAULT_RECIPE, encoder = pool.encode) => createUploadHandler({ sourceBucket: 'photos', targetBucket: target, sourcePrefix: 'uploads/', recipe, encoder, decodeHelper: pool.decodeHelper, env: { IMGPIPE_OSS_ENDPOINT: endpoint }, log: () => undefined });
let fcUpload: ReturnType<typeof handlerFor> | undefined;
const server = await startLocalOss({
  root, buckets: ['photos', 'out-local', 'out-fc', 'out-sharp', 'calib-out'], credentials: [credential],
  functions: { 'imgpipe-upload': { handler: (e, c) => (fcUpload ??= handlerFor('out-fc')).handler(e, c), instances: threads } },
});
endpoint = server.endpoint;
const src = server.storage('photos');
const context = { credentials: { ...credential } };
const cliEnv = { PATH: process.env.PATH ?? '', ALIBABA_CLOUD_ACCESS_KEY_ID: credential.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: credential.accessKeySecret, IMGPIPE_OSS_ENDPOINT: server.endpoint };

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, ['--import', pathToFileURL(join(REPO, 'node_modules/tsx/dist/esm/index.mjs')).href, join(REPO, 'adapters/cli/main.ts'), ...args], { cwd, env: cliEnv });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    c.on('close', (code) => res({ code, out, err }));
  });
}
const last = (out: string) => JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as Record<string, any>;
const event = (key: string, etag: string) => Buffer.from(JSON.stringify({ events: [{ eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', region: 'cn-hangzhou', oss: { bucket: { name: 'photos' }, object: { key, eTag: etag, size: 1 } }, responseElements: { requestId: key } }] }));

try {
  // Distinct sources: fixtures re-encoded at widths from 400 to 2400 px; objects reuse them under many keys.
  const bases = ['Landscape_1.jpg', 'Landscape_5.jpg', 'concert.jpg', 'flowers.jpeg', '2569067123_aca715a2ee_o.jpg', 'blackbug.png', '4.webp', 'grey-8bit-alpha.png', 'gamma_dalai_lama_gray.jpg', 'animated-loop-3.gif'];
  const sources: { bytes: Buffer; mp: number; ext: string }[] = [];
  for (let i = 0; i < 60; i++) {
    const f = bases[i % bases.length];
    const input = await readFile(join(FIX, 'images', f));
    const ext = f.split('.').pop()!.toLowerCase();
    if (ext === 'gif') {
      const m = await sharp(input).metadata();
      sources.push({ bytes: input, mp: (m.width! * (m.pageHeight ?? m.height!)) / 1e6, ext });
      continue;
    }
    // 160-1400 px wide: phone thumbnails to web-sized photos, so 2,000 objects fit a run on 2 shared cores.
    const width = 160 + Math.floor(rnd() * 1240);
    const img = sharp(input).resize({ width });
    const bytes = ext === 'png' ? await img.png().toBuffer() : ext === 'webp' ? await img.webp({ quality: 80 }).toBuffer() : await img.jpeg({ quality: 88 }).toBuffer();
    const m = await sharp(bytes).metadata();
    sources.push({ bytes, mp: (m.width! * m.height!) / 1e6, ext });
  }
  const corrupt = [await readFile(join(FIX, 'bad/truncated.jpg')), await readFile(join(FIX, 'bad/corrupt-header.jpg')), Buffer.from('plain text named like a PNG')];
  const hostile = ['sp ace', 'plus+sign', 'pct%20lit', 'hash#frag', 'q?mark', 'quo"te', 'com,ma', 'ünï 写真', 'emoji😀', 'tab-free(parens)[brackets]'];
  const expected = { missing: 0, stale: 0, 'up-to-date': 0, skip: 0 };
  let corruptCount = 0;
  const upToDate: string[] = [];
  const staleKeys: string[] = [];
  let mpTodo = 0;
  for (let i = 0; i < N; i++) {
    const r = rnd();
    const dir = `uploads/${String(i % 50).padStart(2, '0')}/${i % 7 === 0 ? `${hostile[i % hostile.length]}/` : ''}`;
    if (r < 0.02) {
      const k = `${dir}broken-${i}.${['jpg', 'jpg', 'png'][i % 3]}`;
      await src.put(k, corrupt[i % 3]);
      expected.missing++;
      corruptCount++;
    } else if (r < 0.05) {
      const k = [`${dir}notes-${i}.txt`, `${dir}no-extension-${i}`, `${dir}empty-${i}.jpg`][i % 3];
      await src.put(k, i % 3 === 2 ? new Uint8Array(0) : new TextEncoder().encode(`object ${i}`));
      expected.skip++;
    } else {
      const s = sources[i % sources.length];
      const k = `${dir}img-${i}.${s.ext}`;
      await src.put(k, s.bytes);
      if (r < 0.08) upToDate.push(k);
      else if (r < 0.09) staleKeys.push(k);
      else {
        expected.missing++;
        mpTodo += s.mp;
      }
    }
  }
  // Up-to-date and stale sets in both targets (stale: made by a recipe without the thumbnail).
  const older = { ...DEFAULT_RECIPE, sizes: DEFAULT_RECIPE.sizes.slice(0, 2) };
  for (const target of ['out-local', 'out-fc']) {
    const current = handlerFor(target);
    const previous = handlerFor(target, older);
    for (const k of upToDate) await current.handler(event(k, (await src.head(k))!.etag), context);
    for (const k of staleKeys) await previous.handler(event(k, (await src.head(k))!.etag), context);
  }
  expected['up-to-date'] = upToDate.length;
  expected.stale = staleKeys.length;
  for (const k of staleKeys) mpTodo += sources[Number(/img-(\d+)/.exec(k)![1]) % sources.length].mp;
  console.log(`bucket: ${N} objects`, expected, `corrupt ${corruptCount}, ${mpTodo.toFixed(0)} MP to process`);

  // 2. plan
  // 2. plan, with its calibration (the recipe on 64 sampled objects after 4 untimed, on this machine, writes discarded).
  const plan = await cli(['backfill', 'plan', 'oss://photos/uploads/', '--target', 'oss://out-local', '--json']);
  const p = last(plan.out);
  const planOk = JSON.stringify(p.counts) === JSON.stringify(expected);
  console.log('plan counts', p.counts, planOk ? '= expected' : `!= expected ${JSON.stringify(expected)}`, `in ${p.ms} ms`);
  const todo = expected.missing + expected.stale;
  const estimateCalibrated = p.estimate.localSeconds as number;
  const estimateModel = (p.estimate.cpuSeconds as number) / threads;
  console.log('estimate: calibrated', estimateCalibrated.toFixed(1), 's; model', estimateModel.toFixed(1), 's', JSON.stringify(p.estimate.calibration));
  const result: Record<string, unknown> = {
    date: new Date().toISOString(), partial: true, machine: { cores: threads, cpu: cpus()[0]?.model, node: process.version, shared: 'other jobs ran on the machine; load average per leg below' },
    objects: N, expected, corrupt: corruptCount, megapixelsToProcess: Math.round(mpTodo),
    plan: { counts: p.counts, correct: planOk, ms: p.ms, loadAverage: loadavg()[0] },
    estimate: { calibratedSeconds: Number(estimateCalibrated.toFixed(1)), modelSeconds: Number(estimateModel.toFixed(1)), calibration: p.estimate.calibration },
  };
  const save = () => writeFile(join(REPO, 'bench/results/backfill.json'), `${JSON.stringify(result, null, 2)}\n`);
  await save();

  // 3. run --local
  const local = await cli(['backfill', 'run', 'oss://photos/uploads/', '--target', 'oss://out-local', '--local', '--job', 'bench-local', '--json']);
  const l = last(local.out);
  console.log('run --local', l);
  const localOk = l.total === todo && l.failed === corruptCount && l.succeeded === todo - corruptCount;
  const rep = last((await cli(['backfill', 'report', 'bench-local', '--json'])).out);
  const failedCsv = await readFile(join(rep.dir as string, 'failed.csv'), 'utf8');
  const failureRows = failedCsv.split('\n').filter(Boolean);
  result.local = { seconds: l.seconds, imagesPerSecond: Number((todo / l.seconds).toFixed(2)), processed: l.total, succeeded: l.succeeded, failed: l.failed, correct: localOk, loadAverage: loadavg()[0] };
  result.report = { failures: failureRows.length, errorCodes: rep.errorCodes, everyFailureHasACode: failureRows.length === corruptCount && failureRows.every((r) => /,(PermanentFailure|TemporaryFailure),[A-Z_]+,/.test(r)) };
  (result.estimate as Record<string, unknown>).calibratedOverMeasured = Number((estimateCalibrated / l.seconds).toFixed(3));
  (result.estimate as Record<string, unknown>).modelOverMeasured = Number((estimateModel / l.seconds).toFixed(3));
  console.log('report', result.report, 'estimate', result.estimate);
  await save();

  // 4. sharp, the same recipe over the same objects.
  let sharpSeconds: number | undefined;
  if (!flag('no-sharp')) {
    const jobTasks = (await readFile(join(cwd, '.imgpipe-backfill/bench-local/tasks.jsonl'), 'utf8')).trim().split('\n').map((x) => JSON.parse(x) as { key: string });
    const client = new OSS({ ...credential, bucket: 'photos', endpoint: server.endpoint, region: 'oss-cn-hangzhou' });
    const out = new OSS({ ...credential, bucket: 'out-sharp', endpoint: server.endpoint, region: 'oss-cn-hangzhou' });
    const svg = (w: number) => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${Math.max(20, Math.round(w / 30)) + 40}"><text x="${w - 20}" y="${Math.max(20, Math.round(w / 30)) + 10}" text-anchor="end" font-family="sans-serif" font-size="${Math.max(20, Math.round(w / 30))}" fill="white" fill-opacity="0.6">© imgpipe</text></svg>`);
    const t0 = performance.now();
    let next = 0;
    let failed = 0;
    await Promise.all(Array.from({ length: threads }, async () => {
      while (next < jobTasks.length) {
        const { key } = jobTasks[next++];
        try {
          const bytes = (await client.get(key)).content as Buffer;
          const name = key.replace(/\.[^./]+$/, '');
          const variants: { key: string; size: number }[] = [];
          for (const size of DEFAULT_RECIPE.sizes) {
            let img = sharp(bytes).rotate().resize({ width: size.width, withoutEnlargement: true });
            if (size.watermark) {
              const meta = await img.clone().toBuffer({ resolveWithObject: true });
              img = sharp(meta.data).composite([{ input: svg(meta.info.width), gravity: 'southeast' }]);
            }
            for (const o of DEFAULT_RECIPE.outputs) {
              const buf = o.format === 'jpeg' ? await img.clone().jpeg({ quality: o.quality }).toBuffer() : await img.clone().webp({ quality: o.quality }).toBuffer();
              const k = o.key.replace('{size}', size.name).replace('{name}', name);
              await out.put(k, buf, { headers: { 'Cache-Control': DEFAULT_RECIPE.cacheControl! } });
              variants.push({ key: k, size: buf.length });
            }
          }
          await out.put(`meta/${name}.json`, Buffer.from(JSON.stringify({ key, variants })));
        } catch {
          failed++;
        }
      }
    }));
    sharpSeconds = (performance.now() - t0) / 1000;
    console.log(`sharp script: ${jobTasks.length} objects (${failed} failed) in ${sharpSeconds.toFixed(1)} s`);
    result.sharp = { seconds: Number(sharpSeconds.toFixed(1)), imagesPerSecond: Number((todo / sharpSeconds).toFixed(2)), failed, imgpipeOverSharp: Number((sharpSeconds / l.seconds).toFixed(2)), loadAverage: loadavg()[0] };
    await save();
  }

  // 5. run --invoke against the local FC endpoint.
  let invoke: Record<string, any> | undefined;
  if (!flag('no-invoke')) {
    const r = await cli(['backfill', 'run', 'oss://photos/uploads/', '--target', 'oss://out-fc', '--invoke', 'fc:imgpipe-upload', '--fc-endpoint', server.fcEndpoint, '--job', 'bench-fc', '--chunk', '10', '--json']);
    invoke = last(r.out);
    console.log('run --invoke', invoke);
  }

  if (invoke) result.invoke = { seconds: invoke.seconds, imagesPerSecond: Number((todo / invoke.seconds).toFixed(2)), processed: invoke.total, failed: invoke.failed, correct: invoke.total === todo && invoke.failed === corruptCount, loadAverage: loadavg()[0] };
  result.partial = false;
  console.log(JSON.stringify(result, null, 2));
  await save();
} finally {
  await pool.close();
  await server.close();
  await rm(root, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
}
