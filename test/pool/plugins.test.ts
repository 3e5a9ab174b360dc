/**
 * Plug-ins in the worker pool: registrations are per thread, so a pool worker imports the plug-ins its
 * calling thread registered (their `threadEntry`) and decodes HEIC or writes AVIF as that thread
 * does; a plug-in no other thread can load (the caller's own module) runs in the calling thread.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type * as Api from '../../entries/node.js';
import type * as Heic from '../../entries/heic/node.js';
import { image } from '../helpers/fixtures.js';
import { rejection } from '../helpers/errors.js';
import { threadEntry } from '../../src/plugins.js';
import { toyFormat } from '../helpers/toy-format.js';

// The built package and plug-in entries, as the workers (dist/pool-worker.js) import them.
const BUILT: string = '../../dist/node.js';
const HEIC_ENTRY: string = '../../dist/heic.node.js';
const AVIF_ENTRY: string = '../../dist/avif.node.js';
const { createImage, createWorkerPool, decode, parseProcess, registerFormat, registerPlugin, transform } = (await import(BUILT)) as typeof Api;
const { heic, createHeicPlugin } = (await import(HEIC_ENTRY)) as typeof Heic;
await import(AVIF_ENTRY);

const HEIC = image('heic-alpha.heic');
const PHOTO = image('320x240.jpg');
const pools: { close(): Promise<void> }[] = [];
const pool = () => {
  const p = createWorkerPool({ threads: 1 });
  pools.push(p);
  return p;
};
afterAll(() => Promise.all(pools.map((p) => p.close())));

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('plug-ins in createWorkerPool', () => {
  it('a worker imports the plug-ins its calling thread has: HEIC sources and AVIF outputs as in this thread', async () => {
    expect(heic.threadEntry).toBe(new URL(HEIC_ENTRY, import.meta.url).href);
    const p = pool();
    for (const chain of ['image/resize,w_40', 'image/resize,w_40/format,avif']) {
      const here = await transform(HEIC, chain);
      const pooled = await p.transform(HEIC, parseProcess(chain));
      expect(pooled.format, chain).toBe(here.format);
      expect(same(pooled.bytes, here.bytes), chain).toBe(true);
    }
    const avif = await p.transform(PHOTO, parseProcess('image/format,avif'));
    expect(same(avif.bytes, (await transform(PHOTO, 'image/format,avif')).bytes)).toBe(true);
    const small = createImage(8, 8, 0xff3366cc);
    expect(Buffer.from(await p.encode(small, 'avif', { quality: 50 })).subarray(4, 12).toString('latin1')).toBe('ftypavif');
    // Every one of them ran on the worker.
    expect(p.stats()).toMatchObject({ completed: 4, crashed: 0 });
  });

  it('a worker that cannot import a plug-in says so when it refuses that format, and runs everything else', async () => {
    const failing = new URL('./failing-plugin-entry.mjs', import.meta.url).href;
    registerPlugin({ ...heic, threadEntry: failing });
    try {
      const p = pool();
      expect(await rejection(p.transform(HEIC, parseProcess('image/resize,w_40')))).toEqual({
        code: 'UNSUPPORTED_FORMAT',
        message: "Expected a format imgpipe decodes but received a HEIC file, which needs the opt-in HEIC plug-in: import 'imgpipe/heic' once (or pass it to init({ plugins }))"
          + ` (this pool worker could not load the plug-ins its calling thread has: ${failing}: this plug-in module fails to load)`,
      });
      expect(same((await p.transform(PHOTO, parseProcess('image/resize,w_100'))).bytes, (await transform(PHOTO, 'image/resize,w_100')).bytes)).toBe(true);
    } finally {
      registerPlugin(heic);
    }
  });

  it('a plug-in of the caller\'s own module (no threadEntry) runs in the calling thread', async () => {
    const own = createHeicPlugin({ wasm: readFileSync(new URL('../../dist/wasm/plugins/imgpipe_heif.wasm', import.meta.url)) });
    expect(own.threadEntry).toBeUndefined();
    registerPlugin(own);
    try {
      const p = pool();
      const pooled = await p.transform(HEIC, parseProcess('image/resize,w_40'));
      expect(same(pooled.bytes, (await transform(HEIC, 'image/resize,w_40')).bytes)).toBe(true);
      // Not sent to a worker (none was even started); a JPEG still is.
      expect(p.stats()).toMatchObject({ completed: 0, workers: 0 });
      await p.transform(PHOTO, parseProcess('image/resize,w_100'));
      expect(p.stats()).toMatchObject({ completed: 1 });
    } finally {
      registerPlugin(heic);
    }
  });

  it('a format registered here at run time runs in the calling thread, as the workers lack its row', async () => {
    registerFormat(toyFormat());
    const p = pool();
    const toy = await p.encode(await transform(image('with-alpha.png'), 'image/resize,w_8/format,png').then((r) => decode(r.bytes)), 'toy');
    expect(new TextDecoder().decode(toy.subarray(0, 7))).toBe('TOYRGBA');
    const pooled = await p.transform(toy, parseProcess('image/resize,w_4/format,png'));
    expect(same(pooled.bytes, (await transform(toy, 'image/resize,w_4/format,png')).bytes)).toBe(true);
    const written = await p.transform(PHOTO, parseProcess('image/resize,w_4/format,bmp'));
    expect(written.contentType).toBe('image/x-toy');
    // None of the three went to a worker.
    expect(p.stats()).toMatchObject({ completed: 0, workers: 0 });
  });

  it("names the entry's own file only: inside an app's bundle a worker would run the whole app again", () => {
    expect(threadEntry('file:///srv/node_modules/imgpipe/dist/heic.node.js', 'heic')).toBe('file:///srv/node_modules/imgpipe/dist/heic.node.js');
    expect(threadEntry('file:///srv/node_modules/imgpipe/dist/avif.node.cjs', 'avif')).toBe('file:///srv/node_modules/imgpipe/dist/avif.node.cjs');
    expect(threadEntry('file:///opt/nodejs/node_modules/imgpipe-heic/index.js', 'heic')).toBe('file:///opt/nodejs/node_modules/imgpipe-heic/index.js');
    expect(threadEntry('file:///srv/app/server.js', 'heic')).toBeUndefined();
    expect(threadEntry('file:///srv/node_modules/imgpipe/dist/heic.node.js', 'avif')).toBeUndefined();
  });

  it('refuses a threadEntry that is not a file: URL', async () => {
    expect(await rejection((async () => registerPlugin({ ...heic, threadEntry: 'entries/heic/node.js' }))())).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'Expected the heic plug-in\'s threadEntry to be a file: URL of a module a worker thread can import but received "entries/heic/node.js"',
    });
  });
});
