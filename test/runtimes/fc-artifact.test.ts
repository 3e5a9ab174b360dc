/**
 * The Function Compute artifact (`npm run build:fc`) as FC runs it: the function folder copied where
 * no node_modules can be found, loaded by a fresh Node process, invoked with the OSS trigger events
 * of the local OSS-compatible server, writing variants back over real HTTP. The layer zip's package
 * is required the way FC resolves layers (NODE_PATH=/opt/nodejs/node_modules).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OSS from 'ali-oss';
import sharp from 'sharp';
import { unzipSync } from 'fflate';
import { startLocalOss, type LocalOss } from '../../adapters/local-oss/server.js';
import { fixture, image } from '../helpers/fixtures.js';
import { WASM_NAMES, nodeWasmRow } from '../../src/wasm/modules.js';
import { decode, readHeader } from '../../entries/node.js';
import { decodeImage } from '../../src/decode.js';
import { PHOTO, PHOTO_VARIANTS, ROOT } from './harness.js';

const credential = { accessKeyId: 'LTAIfcartifact01', accessKeySecret: 'fc-artifact-secret' };
const BUILD = join(ROOT, '.fc-build');
let work: string;
let server: LocalOss;
let buildOutput: string;
/** NODE_PATH for the function's invocations: the attached layers' packages ('' for none). */
let layersPath = '';

/** Run `script` in a fresh Node process in `cwd`, with `input` on stdin; resolves with its stdout. */
function runNode(cwd: string, script: string, input: string | Uint8Array, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
    child.stdin.end(input);
  });
}

const MB2 = 2 * 1024 * 1024;
/**
 * The unpacked function and layer: about 2 MB (sharp + libvips is about 20 MB). The bound was 2 MiB until
 * libwebp's encoder inlined its mode search's kernels (wasm/libwebp/patches/enc-direct-calls.patch: 43 KB
 * more module for 0.83-0.90x the CPU of every lossy WebP encode), which put the layer at 2.13 MB.
 */
const UNPACKED_BUDGET = 2.25 * 1024 * 1024;

/** Bytes in a file, or in every file under a folder. */
function sizeOf(path: string): number {
  const s = statSync(path);
  return s.isDirectory() ? readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0) : s.size;
}

/** IMGPIPE_THREADS for the next invocations, and the OS threads each event key's process ended with. */
let threadsSetting = '1';
const osThreads = new Map<string, number>();

const resultOf = (stdout: string): unknown => JSON.parse(stdout.split('\n').find((l) => l.startsWith('RESULT '))!.slice('RESULT '.length));

// What FC does: load index.js, run the initializer once, hand the event over as bytes.
const INVOKE = `
const fn = require('./index.js');
const chunks = [];
process.stdin.on('data', (d) => chunks.push(d)).on('end', async () => {
  const context = { requestId: 'fc-artifact', region: 'cn-hangzhou' };
  await fn.initialize(context);
  const result = await fn.handler(Buffer.concat(chunks), context);
  // stdout also carries the handler's JSON log lines: the result goes on its own marked line.
  process.stdout.write('\\nRESULT ' + JSON.stringify(result) + '\\n');
  // Idle pool workers stay alive (unreferenced): count this process's threads to see them.
  process.stdout.write('THREADS ' + require('fs').readdirSync('/proc/self/task').length + '\\n');
});`;

beforeAll(async () => {
  buildOutput = execFileSync(process.execPath, [join(ROOT, 'scripts/build-fc.mjs')], { cwd: ROOT, encoding: 'utf8' });
  work = mkdtempSync(join(tmpdir(), 'imgpipe-fc-artifact-'));
  cpSync(join(BUILD, 'function'), join(work, 'code'), { recursive: true });
  server = await startLocalOss({
    root: join(work, 'oss'),
    buckets: ['photos'],
    credentials: [credential],
    notify: {
      buckets: ['photos'],
      handler: async (event) => {
        const stdout = await runNode(join(work, 'code'), INVOKE, event instanceof Uint8Array ? event : JSON.stringify(event), {
          IMGPIPE_OSS_ENDPOINT: server.endpoint,
          IMGPIPE_SOURCE_PREFIX: 'uploads/',
          IMGPIPE_THREADS: threadsSetting,
          // Where FC puts attached layers' packages (/opt/nodejs/node_modules).
          ...(layersPath ? { NODE_PATH: layersPath } : {}),
          OSS_ACCESS_KEY_ID: credential.accessKeyId,
          OSS_ACCESS_KEY_SECRET: credential.accessKeySecret,
        });
        const result = resultOf(stdout) as { outcomes?: { key?: string }[] };
        osThreads.set(String(result.outcomes?.[0]?.key), Number(/^THREADS (\d+)$/m.exec(stdout)?.[1]));
        return result;
      },
    },
  });
});
afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('Function Compute artifact', () => {
  it('is one folder of JS and WASM, about 2 MB unpacked (sharp + libvips is about 20 MB), and reports its sizes', () => {
    expect(readdirSync(join(BUILD, 'function')).sort()).toEqual(['index.js', 'index.js.LEGAL.txt', 'wasm']);
    // Every core module but Little CMS, which is a layer of its own (below), each in the build Node
    // loads (libwebp's threaded one, in wasm/node/).
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name]));
    expect(files(join(BUILD, 'function/wasm')).sort()).toEqual(WASM_NAMES.filter((n) => n !== 'lcms2').map((n) => nodeWasmRow(n).file).sort());
    expect(sizeOf(join(BUILD, 'function'))).toBeLessThan(UNPACKED_BUDGET);
    expect(sizeOf(join(BUILD, 'layer'))).toBeLessThan(UNPACKED_BUDGET);
    expect(statSync(join(BUILD, 'function.zip')).size).toBeLessThan(MB2 / 2);
    expect(statSync(join(BUILD, 'imgpipe-layer.zip')).size).toBeLessThan(MB2 / 2);
    expect(buildOutput).toMatch(/function\/ \(unpacked\)\s+\d+ KB/);
    expect(buildOutput).toMatch(/function\.zip\s+\d+ KB/);
    // The replaced modules (see STUBS in scripts/build-fc.mjs) stay out: they were a third of the code.
    const inputs = Object.keys((JSON.parse(readFileSync(join(BUILD, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> }).inputs);
    expect(inputs.filter((i) => /node_modules\/(iconv-lite|xmlbuilder|win-release|semver)\//.test(i))).toEqual([]);
    expect(inputs.some((i) => i.includes('node_modules/ali-oss/'))).toBe(true);
    const layer = Object.keys(unzipSync(readFileSync(join(BUILD, 'imgpipe-layer.zip'))));
    expect(layer).toContain('nodejs/node_modules/imgpipe/index.js');
    expect(layer).toContain('nodejs/node_modules/imgpipe/package.json');
    expect(layer).toContain('nodejs/node_modules/imgpipe/wasm/mozjpeg_enc.wasm');
    expect(layer).not.toContain('nodejs/node_modules/imgpipe/wasm/imgpipe_lcms2.wasm');
    const lcms = Object.keys(unzipSync(readFileSync(join(BUILD, 'imgpipe-lcms2-layer.zip'))));
    expect(lcms.sort()).toEqual(['nodejs/node_modules/imgpipe-lcms2/imgpipe_lcms2.wasm', 'nodejs/node_modules/imgpipe-lcms2/package.json']);
  });

  it('runs from its folder with no node_modules: an OSS upload becomes six variants', async () => {
    const oss = new OSS({ ...credential, bucket: 'photos', endpoint: server.endpoint, region: 'oss-cn-hangzhou' });
    await oss.put(`uploads/${PHOTO}`, Buffer.from(image(PHOTO)), { mime: 'image/jpeg' });
    await server.idle();
    const inv = server.invocations.find((i) => i.key === `uploads/${PHOTO}`);
    expect(inv?.error).toBeUndefined();
    expect(inv?.result).toMatchObject({ outcomes: [{ status: 'processed', variants: 6 }] });
    for (const [key, width, height] of PHOTO_VARIANTS) {
      const got = await oss.get(key.replace(/(\/[^/]+\/)/, '$1uploads/'));
      expect(await sharp(got.content).metadata()).toMatchObject({ width, height });
    }
  });

  it("takes an iPhone's HEIC upload once the HEIC layer is attached, and says how to enable it before", async () => {
    const oss = new OSS({ ...credential, bucket: 'photos', endpoint: server.endpoint, region: 'oss-cn-hangzhou' });
    const key = 'uploads/IMG_0001.HEIC';
    await oss.put(key, Buffer.from(image('heic-alpha.heic')));
    await server.idle();
    expect(server.invocations.filter((i) => i.key === key).map((i) => i.result)).toMatchObject([{ outcomes: [{ status: 'failed', code: 'UNSUPPORTED_FORMAT' }] }]);
    const opt = join(work, 'opt-function-heic');
    cpSync(join(BUILD, 'heic-layer'), opt, { recursive: true });
    layersPath = join(opt, 'nodejs/node_modules');
    try {
      // Uploaded again with other bytes (a new ETag) to the same function, now with the layer attached.
      await oss.put(key, Buffer.from(image('heic-10bit-alpha.heic')));
      await server.idle();
    } finally {
      layersPath = '';
    }
    const runs = server.invocations.filter((i) => i.key === key);
    expect(runs).toHaveLength(2);
    expect(runs[1].result).toMatchObject({ outcomes: [{ status: 'processed', variants: 6 }] });
    expect((await sharp((await oss.get('webp/thumb/uploads/IMG_0001.webp')).content).metadata()).format).toBe('webp');
  });

  it('encodes on worker threads started from its own file when IMGPIPE_THREADS is set, writing the same bytes', async () => {
    const oss = new OSS({ ...credential, bucket: 'photos', endpoint: server.endpoint, region: 'oss-cn-hangzhou' });
    const outputs: Buffer[][] = [];
    const threadCounts: number[] = [];
    for (const [threads, folder] of [['1', 'one/'], ['2', 'two/']]) {
      threadsSetting = threads;
      await oss.put(`uploads/${folder}${PHOTO}`, Buffer.from(image(PHOTO)), { mime: 'image/jpeg' });
      await server.idle();
      expect(server.invocations.find((i) => i.key === `uploads/${folder}${PHOTO}`)?.result).toMatchObject({ outcomes: [{ status: 'processed', variants: 6 }] });
      threadCounts.push(osThreads.get(`uploads/${folder}${PHOTO}`)!);
      outputs.push(await Promise.all(PHOTO_VARIANTS.map(async ([key]) => (await oss.get(key.replace(/(\/[^/]+\/)/, `$1uploads/${folder}`))).content as Buffer)));
    }
    threadsSetting = '1';
    // Two pool workers alive after the run (each a thread of its own, plus what Node starts for it).
    expect(threadCounts[1] - threadCounts[0]).toBeGreaterThanOrEqual(2);
    outputs[1].forEach((bytes, i) => expect(Buffer.compare(bytes, outputs[0][i]), PHOTO_VARIANTS[i][0]).toBe(0));
  });

  it('refuses a malformed IMGPIPE_THREADS when it loads, naming the setting', async () => {
    const out = await runNode(join(work, 'code'), `
      try { require('./index.js'); console.log('loaded'); } catch (e) { console.log(e.code + ': ' + e.message); }`, '', { IMGPIPE_THREADS: 'two' });
    expect(out.trim()).toBe('INVALID_ARGUMENT: Expected an integer between 1 and 256 for IMGPIPE_THREADS but received "two"');
  });

  it('serves as a layer: require("imgpipe") through NODE_PATH runs the recipe', async () => {
    const layerDir = join(work, 'opt');
    cpSync(join(BUILD, 'layer'), layerDir, { recursive: true });
    const out = await runNode(work, `
      const { processUpload } = require('imgpipe');
      const chunks = [];
      process.stdin.on('data', (d) => chunks.push(d)).on('end', async () => {
        const variants = await processUpload(new Uint8Array(Buffer.concat(chunks)), { key: 'a.jpg' });
        process.stdout.write(JSON.stringify(variants.map((v) => [v.key, v.width, v.height])));
      });`, image(PHOTO), { NODE_PATH: join(layerDir, 'nodejs/node_modules') });
    expect(JSON.parse(out)).toEqual(PHOTO_VARIANTS.map(([k, w, h]) => [k.replace(PHOTO.replace('.jpg', ''), 'a'), w, h]));
  });
  it('Little CMS is a layer of its own: attached, a LUT-based profile is applied as in Node; without it, the pixels as decoded', async () => {
    const bytes = fixture('icc/lut-profile.jpg');
    const digestOf = (data: Uint8Array | Uint8ClampedArray) => createHash('sha256').update(data).digest('hex');
    const ours = digestOf((await decode(bytes, { autoOrient: false })).data);
    const header = readHeader(bytes);
    const bare = digestOf((await decodeImage(bytes, { ...header, iccBytes: 0, iccRanges: undefined }, { autoOrient: false }, false)).image.data);
    expect(ours).not.toBe(bare);
    const script = `
      const { decode } = require('imgpipe');
      const chunks = [];
      process.stdin.on('data', (d) => chunks.push(d)).on('end', async () => {
        const image = await decode(new Uint8Array(Buffer.concat(chunks)), { autoOrient: false });
        process.stdout.write(require('crypto').createHash('sha256').update(image.data).digest('hex'));
      });`;
    const core = join(work, 'opt-core');
    cpSync(join(BUILD, 'layer'), core, { recursive: true });
    expect(await runNode(work, script, bytes, { NODE_PATH: join(core, 'nodejs/node_modules') })).toBe(bare);
    const both = join(work, 'opt-lcms2');
    cpSync(join(BUILD, 'layer'), both, { recursive: true });
    cpSync(join(BUILD, 'lcms2-layer'), both, { recursive: true });
    expect(await runNode(work, script, bytes, { NODE_PATH: join(both, 'nodejs/node_modules') })).toBe(ours);
  });
  it('the HEIC plug-in is a layer of its own: with both layers attached, require("imgpipe-heic") enables HEIC', async () => {
    // Never in the function or the core layer (it is LGPL and ~0.9 MB).
    expect(readdirSync(join(BUILD, 'function/wasm'))).not.toContain('imgpipe_heif.wasm');
    expect(Object.keys(unzipSync(readFileSync(join(BUILD, 'imgpipe-heic-layer.zip')))).sort()).toEqual([
      'nodejs/node_modules/imgpipe-heic/index.js', 'nodejs/node_modules/imgpipe-heic/package.json', 'nodejs/node_modules/imgpipe-heic/wasm/plugins/imgpipe_heif.wasm',
    ]);
    const opt = join(work, 'opt-heic');
    cpSync(join(BUILD, 'layer'), opt, { recursive: true });
    cpSync(join(BUILD, 'heic-layer'), opt, { recursive: true });
    // A worker pool has it too: its worker (a script of the function's own, as a bundled deployment
    // passes) imports the layer's file, the plug-in's threadEntry.
    writeFileSync(join(work, 'pool-worker.cjs'), "require('imgpipe').serveEncodes();\n");
    const out = await runNode(work, `
      const { processUpload, createWorkerPool, parseProcess } = require('imgpipe');
      require('imgpipe-heic');
      const chunks = [];
      process.stdin.on('data', (d) => chunks.push(d)).on('end', async () => {
        const bytes = new Uint8Array(Buffer.concat(chunks));
        const variants = await processUpload(bytes, { key: 'p.heif' });
        const pool = createWorkerPool({ threads: 1, workerUrl: 'pool-worker.cjs' });
        const pooled = await pool.transform(bytes, parseProcess('image/resize,w_100'));
        const { completed } = pool.stats();
        await pool.close();
        process.stdout.write(JSON.stringify([variants.map((v) => [v.key, v.width, v.height])[0], [pooled.format, pooled.width, pooled.height, completed]]));
      });`, image('samplefilehub.heif'), { NODE_PATH: join(opt, 'nodejs/node_modules') });
    expect(JSON.parse(out)).toEqual([['resized/large/p.jpg', 640, 426], ['jpeg', 100, 67, 1]]);
  });
  it('the AVIF plug-in is a layer of its own: with both layers attached, require("imgpipe-avif") reads and writes AVIF', async () => {
    expect(readdirSync(join(BUILD, 'function/wasm')).filter((f) => f.startsWith('avif'))).toEqual([]);
    expect(Object.keys(unzipSync(readFileSync(join(BUILD, 'imgpipe-avif-layer.zip')))).sort()).toEqual([
      'nodejs/node_modules/imgpipe-avif/index.js', 'nodejs/node_modules/imgpipe-avif/package.json',
      'nodejs/node_modules/imgpipe-avif/wasm/plugins/avif_dec.wasm', 'nodejs/node_modules/imgpipe-avif/wasm/plugins/avif_enc.wasm',
    ]);
    const opt = join(work, 'opt-avif');
    cpSync(join(BUILD, 'layer'), opt, { recursive: true });
    cpSync(join(BUILD, 'avif-layer'), opt, { recursive: true });
    const out = await runNode(work, `
      const { transform } = require('imgpipe');
      require('imgpipe-avif');
      const chunks = [];
      process.stdin.on('data', (d) => chunks.push(d)).on('end', async () => {
        const written = await transform(new Uint8Array(Buffer.concat(chunks)), 'image/resize,w_40/format,avif');
        const read = await transform(written.bytes, 'image/resize,w_20/format,png');
        process.stdout.write(JSON.stringify([written.contentType, written.width, read.format, read.width]));
      });`, fixture('avif/photo-444.avif'), { NODE_PATH: join(opt, 'nodejs/node_modules') });
    expect(JSON.parse(out)).toEqual(['image/avif', 40, 'png', 20]);
  });
});

// What FC does with an HTTP trigger: load index.js, run the initializer, hand each request over as its
// JSON event (a Buffer). stdin: [event, context] pairs; stdout: each answer, its body as base64.
const SERVE_INVOKE = `
const fn = require('./index.js');
const chunks = [];
process.stdin.on('data', (d) => chunks.push(d)).on('end', async () => {
  await fn.initialize({ requestId: 'init', region: 'cn-hangzhou' });
  const answers = [];
  for (const [event, context] of JSON.parse(Buffer.concat(chunks).toString())) {
    answers.push(await fn.handler(Buffer.from(JSON.stringify(event)), context));
  }
  process.stdout.write('\\nRESULT ' + JSON.stringify(answers) + '\\n');
});`;

describe('Function Compute x-oss-process function (serve-function)', () => {
  const get = (path: string, processString: string) => ({
    version: 'v1', rawPath: path, isBase64Encoded: false, headers: { host: 'abc.cn-hangzhou.fcapp.run' },
    queryParameters: { 'x-oss-process': processString },
    requestContext: { domainName: 'abc.cn-hangzhou.fcapp.run', http: { method: 'GET', path } },
  });
  const as = (credentials: { accessKeyId: string; accessKeySecret: string }) => ({ requestId: 'r', region: 'cn-hangzhou', credentials });
  type Answer = { statusCode: number; headers: Record<string, string>; body: string };

  it('answers x-oss-process from OSS with each invocation\'s credentials, on its worker pool, HEIC with the layer attached', async () => {
    const code = join(work, 'serve-code');
    cpSync(join(BUILD, 'serve-function'), code, { recursive: true });
    const opt = join(work, 'opt-serve-heic');
    cpSync(join(BUILD, 'heic-layer'), opt, { recursive: true });
    const store = server.storage('photos');
    await store.put('originals/a.jpg', image(PHOTO), { contentType: 'image/jpeg' });
    await store.put('originals/b.jpg', image(PHOTO), { contentType: 'image/jpeg' });
    await store.put('originals/c.jpg', image(PHOTO), { contentType: 'image/jpeg' });
    await store.put('originals/IMG_0002.HEIC', image('heic-alpha.heic'), { contentType: 'image/heic' });
    const wrong = { accessKeyId: 'LTAInotakey000001', accessKeySecret: 'not-the-secret' };
    const requests = [
      [get('/photos/originals/a.jpg', 'image/resize,w_100/format,webp'), as(credential)],
      // The role's triple rotated to one OSS refuses: read with it, not with the first.
      [get('/photos/originals/b.jpg', 'image/resize,w_100'), as(wrong)],
      [get('/photos/originals/c.jpg', 'image/resize,w_100'), as(credential)],
      [get('/elsewhere/originals/a.jpg', 'image/resize,w_100'), as(credential)],
      [get('/photos/originals/IMG_0002.HEIC', 'image/resize,w_60/format,png'), as(credential)],
    ];
    const out = await runNode(code, SERVE_INVOKE, JSON.stringify(requests), {
      IMGPIPE_BUCKETS: 'photos',
      IMGPIPE_OSS_ENDPOINT: server.endpoint,
      IMGPIPE_THREADS: '2',
      NODE_PATH: join(opt, 'nodejs/node_modules'),
    });
    const [webp, refused, jpeg, outside, heic] = resultOf(out) as Answer[];
    expect(webp.statusCode).toBe(200);
    expect(webp.headers['content-type']).toBe('image/webp');
    expect(await sharp(Buffer.from(webp.body, 'base64')).metadata()).toMatchObject({ format: 'webp', width: 100 });
    expect(refused.statusCode).toBe(403);
    expect(Buffer.from(refused.body, 'base64').toString()).toContain('<Code>AccessDenied</Code>');
    expect(jpeg.statusCode).toBe(200);
    expect(await sharp(Buffer.from(jpeg.body, 'base64')).metadata()).toMatchObject({ format: 'jpeg', width: 100 });
    expect(outside.statusCode).toBe(403);
    expect(Buffer.from(outside.body, 'base64').toString()).toContain('Expected a bucket on the allow-list but received &quot;elsewhere&quot;');
    expect(heic.statusCode).toBe(200);
    expect(await sharp(Buffer.from(heic.body, 'base64')).metadata()).toMatchObject({ format: 'png', width: 60, height: 45 });
  });

  it('refuses to start without the buckets it may serve, naming the setting', async () => {
    const code = join(work, 'serve-code');
    const load = (env: Record<string, string>) => runNode(code, `
      try { require('./index.js'); console.log('loaded'); } catch (e) { console.log(e.code + ': ' + e.message); }`, '', env);
    expect((await load({})).trim()).toBe('INVALID_ARGUMENT: Expected IMGPIPE_BUCKETS to name the buckets to serve, comma-separated, but received ""');
    expect((await load({ IMGPIPE_BUCKETS: 'photos,Bad_Name' })).trim()).toBe(
      'INVALID_ARGUMENT: Expected a bucket name of 3-63 lower-case letters, digits and \'-\' for bucket but received "Bad_Name" (in IMGPIPE_BUCKETS)',
    );
    expect((await load({ IMGPIPE_BUCKETS: 'photos', IMGPIPE_BUCKET_FROM: 'query' })).trim()).toBe('INVALID_ARGUMENT: Expected path or host for IMGPIPE_BUCKET_FROM but received "query"');
    expect((await load({ IMGPIPE_BUCKETS: 'photos', IMGPIPE_SOURCE_CACHE_MB: '64MB' })).trim()).toBe(
      'INVALID_ARGUMENT: Expected a whole number of MB between 0 and 4096 for IMGPIPE_SOURCE_CACHE_MB but received "64MB"',
    );
  });
});
