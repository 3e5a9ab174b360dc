/**
 * createWorkerPool: encodes on worker threads give the same bytes as encodes in the main thread, the
 * recipe engine uses it for concurrent runs, errors cross the thread boundary typed, and a worker
 * that dies fails only its own task.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUploadHandler } from '../../adapters/fc/handler.js';
import { createFsStorage } from '../../adapters/storage.js';
import type * as Api from '../../entries/node.js';

// The built package, like the workers themselves (dist/pool-worker.js), so both sides run the same
// code (typed from the sources it is built from).
const BUILT: string = '../../dist/node.js';
const { DEFAULT_RECIPE, createImage, createWorkerPool, encode, parseProcess, processUpload, runRecipe, transform } = (await import(BUILT)) as typeof Api;
type Encoder = Api.Encoder;
import { image } from '../helpers/fixtures.js';
import { rejection } from '../helpers/errors.js';

const PHOTO = image('320x240.jpg');
const pools: { close(): Promise<void> }[] = [];
const pool = (options?: Parameters<typeof createWorkerPool>[0]) => {
  const p = createWorkerPool(options);
  pools.push(p);
  return p;
};
afterAll(() => Promise.all(pools.map((p) => p.close())));


describe('createWorkerPool', () => {
  it('runs the recipe on workers with byte-identical outputs to the main thread', async () => {
    const p = pool({ threads: 2 });
    const inline = await processUpload(PHOTO, { key: 'u/a.jpg' });
    const pooled = await processUpload(PHOTO, { key: 'u/a.jpg', encoder: p.encode, decodeHelper: p.decodeHelper });
    expect(pooled.map((v) => v.key)).toEqual(inline.map((v) => v.key));
    pooled.forEach((v, i) => expect(Buffer.compare(v.bytes, inline[i].bytes)).toBe(0));
    expect(p.stats()).toMatchObject({ threads: 2, completed: 6, crashed: 0, busy: 0, queued: 0 });
  });

  it('serves 16 concurrent recipe runs with no more workers than threads', async () => {
    const p = pool({ threads: 2 });
    const expected = await processUpload(PHOTO, { key: 'x.jpg' });
    const runs = await Promise.all(Array.from({ length: 16 }, (_, i) => processUpload(PHOTO, { key: `x.jpg`, encoder: p.encode, decodeHelper: p.decodeHelper, recipe: DEFAULT_RECIPE }).then((v) => [i, v] as const)));
    for (const [, variants] of runs) variants.forEach((v, j) => expect(Buffer.compare(v.bytes, expected[j].bytes)).toBe(0));
    expect(p.stats().workers).toBeLessThanOrEqual(2);
    expect(p.stats().completed).toBe(16 * 6);
  });

  it('returns typed errors from a worker with their code and message', async () => {
    const p = pool({ threads: 1 });
    const img = createImage(4, 4);
    expect(await rejection(p.encode(img, 'webp', { quality: 0 }))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'Expected an integer between 1 and 100 for encode.quality but received 0',
    });
    expect(await rejection(p.encode(img, 'tiff'))).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    // The worker is still healthy afterwards.
    expect(Buffer.compare(await p.encode(img, 'png'), await encode(img, 'png'))).toBe(0);
  });

  it('survives a worker dying: only that task fails, the next tasks run on a new worker', async () => {
    const p = pool({ threads: 2, workerUrl: new URL('./crashing-worker.mjs', import.meta.url) });
    const img = createImage(16, 16);
    const [crashed, ...others] = await Promise.allSettled([
      p.encode(img, 'jpeg', { quality: 13 }),
      ...Array.from({ length: 6 }, () => p.encode(img, 'jpeg', { quality: 80 })),
    ]);
    expect(crashed.status).toBe('rejected');
    expect(await rejection(p.encode(img, 'jpeg', { quality: 13 }))).toEqual({
      code: 'INTERNAL',
      message: 'Expected the pool worker to finish the jpeg encode of a 16x16 image but it exited with code 3',
    });
    expect(others.every((r) => r.status === 'fulfilled')).toBe(true);
    const after = await processUpload(PHOTO, { key: 'a.jpg', encoder: p.encode, decodeHelper: p.decodeHelper });
    expect(after).toHaveLength(6);
    expect(p.stats()).toMatchObject({ crashed: 2 });
  });

  it('says what a worker that exits threw: a worker script that fails to load fails each task with its error', async () => {
    const p = pool({ threads: 1, workerUrl: new URL('./broken-worker.mjs', import.meta.url) });
    const img = createImage(16, 16);
    for (let i = 0; i < 2; i++) {
      expect(await rejection(p.encode(img, 'png'))).toEqual({
        code: 'INTERNAL',
        message: 'Expected the pool worker to finish the png encode of a 16x16 image but it exited with code 1: TypeError: the worker script failed to load on purpose',
      });
    }
  });

  it('accepts the worker script as a file path too', async () => {
    const p = pool({ threads: 1, workerUrl: fileURLToPath(new URL('../../dist/pool-worker.js', import.meta.url)) });
    expect(Buffer.compare(await p.encode(createImage(8, 8), 'webp'), await encode(createImage(8, 8), 'webp'))).toBe(0);
  });

  it('fails queued and later tasks with ABORTED once closed', async () => {
    const p = createWorkerPool({ threads: 1 });
    const big = createImage(1200, 900);
    const tasks = Array.from({ length: 4 }, () => p.encode(big, 'webp'));
    await p.close();
    const results = await Promise.allSettled(tasks);
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
    expect(await rejection(p.encode(big, 'webp'))).toEqual({ code: 'ABORTED', message: 'Expected an open worker pool but createWorkerPool().close() was called' });
  });

  it('refuses a bad thread count, naming the option', () => {
    for (const threads of [0, 1.5, 257]) {
      expect(() => createWorkerPool({ threads })).toThrowError(`Expected an integer between 1 and 256 for createWorkerPool.threads but received ${threads}`);
    }
  });
});

describe('transforms sent to a busy worker (waiting in its port, so it starts them without a round trip)', () => {
  // The long task: the 2725x2225 photo to a 2000 px WebP (hundreds of ms); the short ones: 320x240 to 64 px.
  const LARGE = image('2569067123_aca715a2ee_o.jpg');
  const long = parseProcess('image/resize,w_2000/format,webp');
  const short = parseProcess('image/resize,w_64/format,png');
  const same = (a: { bytes: Uint8Array }, b: { bytes: Uint8Array }) => Buffer.compare(a.bytes, b.bytes) === 0;
  // transform() reads a chain's watermark inputs before it queues the task: a turn of the event loop.
  const queued = () => new Promise((r) => setImmediate(r));

  it('runs them in order with the bytes of a lone transform, and counts them as queued', async () => {
    const p = pool({ threads: 1 });
    await p.transform(PHOTO, short);
    const lone = await transform(PHOTO, short);
    const runs = [p.transform(LARGE, long), p.transform(PHOTO, short), p.transform(PHOTO, short)];
    await queued();
    // One running; one waiting in the worker's port, one in the pool's queue.
    expect(p.stats()).toMatchObject({ busy: 1, queued: 2 });
    const [first, ...rest] = await Promise.all(runs);
    expect(same(first, await transform(LARGE, long))).toBe(true);
    expect(rest.every((r) => same(r, lone))).toBe(true);
    expect(p.stats()).toMatchObject({ busy: 0, queued: 0, completed: 4 });
  });

  it('cancels one whose request was aborted before the worker reached it: it never runs', async () => {
    const p = pool({ threads: 1 });
    await p.transform(PHOTO, short);
    const controller = new AbortController();
    const running = p.transform(LARGE, long);
    const waiting = p.transform(PHOTO, short, { signal: controller.signal });
    await queued();
    expect(p.stats()).toMatchObject({ busy: 1, queued: 1 });
    controller.abort();
    expect(await rejection(waiting)).toEqual({ code: 'ABORTED', message: `Expected to run an x-oss-process transform of ${PHOTO.byteLength} bytes but the request was aborted while it waited for a worker` });
    await running;
    expect(same(await p.transform(PHOTO, short), await transform(PHOTO, short))).toBe(true);
    // The warm-up, the long one and the last: the cancelled one was answered by no worker.
    expect(p.stats()).toMatchObject({ completed: 3, busy: 0, queued: 0 });
  });

  it('refuses one whose request was aborted before it was sent: it never runs', async () => {
    const p = pool({ threads: 1 });
    await p.transform(PHOTO, short);
    expect(await rejection(p.transform(PHOTO, short, { signal: AbortSignal.abort() }))).toEqual({ code: 'ABORTED', message: 'Expected to transform the image but the request was aborted' });
    expect(p.stats()).toMatchObject({ completed: 1, busy: 0, queued: 0 });
  });

  it('refuses one whose request was aborted while its watermark image was being read: it never runs', async () => {
    const p = pool({ threads: 1 });
    await p.transform(PHOTO, short);
    const controller = new AbortController();
    // The storage read is held open until the client has left (a slow object store).
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let reads = 0;
    const loadObject = async (key: string) => { reads++; await held; return image(key); };
    const marked = parseProcess(`image/resize,w_64/watermark,image_${Buffer.from('320x240.jpg').toString('base64url')}/format,png`);
    const running = p.transform(PHOTO, marked, { signal: controller.signal, loadObject });
    await queued();
    expect(reads).toBe(1);
    controller.abort();
    release();
    expect(await rejection(running)).toEqual({ code: 'ABORTED', message: `Expected to run an x-oss-process transform of ${PHOTO.byteLength} bytes but the request was aborted while it waited for a worker` });
    // Only the warm-up ran; the same chain without the abort runs and matches the main thread's bytes.
    expect(p.stats()).toMatchObject({ completed: 1, busy: 0, queued: 0 });
    const lone = await transform(PHOTO, marked, { loadObject: async (key) => image(key) });
    expect(same(await p.transform(PHOTO, marked, { loadObject: async (key) => image(key) }), lone)).toBe(true);
  });

  it('moves one waiting behind a long task to a worker that comes free first', async () => {
    const p = pool({ threads: 2 });
    await Promise.all([p.transform(PHOTO, short), p.transform(PHOTO, short)]);
    const done: string[] = [];
    const track = (name: string, run: Promise<unknown>) => run.then(() => { done.push(name); });
    // Worker 1 gets a short task and worker 2 the long one; the next two wait one behind each.
    await Promise.all([
      track('short 1', p.transform(PHOTO, short)),
      track('long', p.transform(LARGE, long)),
      track('short 2', p.transform(PHOTO, short)),
      track('short 3', p.transform(PHOTO, short)),
    ]);
    // Short 3 waited behind the long task; worker 1, free after shorts 1 and 2, ran it instead.
    expect(done.indexOf('short 3')).toBeLessThan(done.indexOf('long'));
    expect(p.stats()).toMatchObject({ completed: 6, busy: 0, queued: 0, crashed: 0 });
  });

  it('sends one waiting behind a task whose worker died to a new worker', async () => {
    const p = pool({ threads: 1, workerUrl: new URL('./crashing-worker.mjs', import.meta.url) });
    await p.transform(PHOTO, short);
    const crashing = p.transform(PHOTO, short, { limits: { maxBytes: 13_000_013 } });
    const behind = p.transform(PHOTO, short);
    expect(await rejection(crashing)).toEqual({ code: 'INTERNAL', message: `Expected the pool worker to finish an x-oss-process transform of ${PHOTO.byteLength} bytes but it exited with code 3` });
    expect(same(await behind, await transform(PHOTO, short))).toBe(true);
    expect(p.stats()).toMatchObject({ crashed: 1 });
  });
});

describe('Function Compute handler with a pool', () => {
  it('writes the same variants and manifest when its encodes run on workers', async () => {
    const root = await mkdtemp(join(tmpdir(), 'imgpipe-pool-fc-'));
    try {
      const storage = createFsStorage({ root, bucket: 'photos' });
      const put = await storage.put('uploads/a.jpg', PHOTO, { contentType: 'image/jpeg' });
      const p = pool({ threads: 2 });
      const upload = createUploadHandler({ sourcePrefix: 'uploads/', storage: () => storage, encoder: p.encode, decodeHelper: p.decodeHelper, log: () => undefined });
      const event = { events: [{ eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', region: 'cn-hangzhou', oss: { bucket: { name: 'photos' }, object: { key: 'uploads/a.jpg', eTag: put.etag, size: PHOTO.byteLength } } }] };
      const result = await upload.handler(Buffer.from(JSON.stringify(event)), { requestId: 'r1', region: 'cn-hangzhou' });
      expect(result.outcomes.map((o) => o.status)).toEqual(['processed']);
      expect(p.stats().completed).toBe(6);
      for (const v of await processUpload(PHOTO, { key: 'uploads/a.jpg' })) {
        expect(Buffer.compare((await storage.get(v.key)).bytes, v.bytes), v.key).toBe(0);
      }
      expect((await storage.head('meta/uploads/a.json'))?.size).toBeGreaterThan(0);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('recipe engine with an encoder', () => {
  it('reports the first failing encode after every started encode has settled', async () => {
    let settled = 0;
    const failingWebp: Encoder = async (img, format, options) => {
      try {
        if (format === 'webp') throw new Error('webp encoder unavailable');
        return await encode(img, format, options);
      } finally {
        settled++;
      }
    };
    await expect(runRecipe(PHOTO, { key: 'a.jpg', encoder: failingWebp })).rejects.toThrow('webp encoder unavailable');
    expect(settled).toBe(6);
  });
});
