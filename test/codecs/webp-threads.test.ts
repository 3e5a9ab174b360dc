/**
 * libwebp's lossy decode on two threads in Node (src/codecs/webp-threads.ts, entries/node-webp-helper.ts,
 * webp.c's IMGPIPE_WEBP_THREADS): the threaded build must give the one-thread build's pixels byte for
 * byte, hand rows to the helper only where libwebp threads (lossy, no alpha, 512 px wide or more),
 * fall back to one thread when the helper does not take part, fail a decode whose row failed on the
 * helper, or whose helper stopped answering, with a typed error (and decode again afterwards), stop
 * and give up a helper stuck in a row, and never keep a process alive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, inspect, locateWasm, WASM_MODULES, type RGBAImage } from '../../entries/node.js';
import { decodeWebpScaled } from '../../src/codecs/webp.js';
import { helperTimeout, isThreadedBuild, setWebpDecodeHelper, webpThreadStats, type WebpDecodeHelper } from '../../src/codecs/webp-threads.js';
import { image } from '../helpers/fixtures.js';
import { copyIn, type OutputBufferExports } from '../../src/wasm/instance.js';
import { NodeWebpHelper } from '../../entries/node-webp-helper.js';

sharp.cache(false);

const ROOT = join(__dirname, '../..');

/** The helper entries/node.js registered (on a machine with more than one core), put back after each test. */
const registered = setWebpDecodeHelper(undefined);
setWebpDecodeHelper(registered);

type PlainExports = OutputBufferExports & {
  _initialize(): void;
  imgpipe_webp_decode(data: number, size: number, w: number, h: number): number;
};

/** The one-thread build's decode, called directly: the reference pixels. */
function plainDecode(file: Uint8Array, width = 0, height = 0): RGBAImage {
  const module = new WebAssembly.Module(readFileSync(join(ROOT, WASM_MODULES.webp.from)));
  const e = new WebAssembly.Instance(module, { env: { emscripten_notify_memory_growth: () => undefined } }).exports as unknown as PlainExports;
  e._initialize();
  const ptr = copyIn(e, file);
  expect(e.imgpipe_webp_decode(ptr, file.byteLength, width, height)).toBe(0);
  const data = new Uint8ClampedArray(new Uint8Array(e.memory.buffer, e.imgpipe_output(), e.imgpipe_output_size()).slice().buffer);
  return { width: e.imgpipe_output_width(), height: e.imgpipe_output_height(), data } as RGBAImage;
}

/**
 * Decode `file` (lossy, 512 px wide or more) until a decode runs on the registered helper: the first
 * lossy decode of a process starts it and runs on one thread while it comes up.
 */
async function helperTakingPart(file: Uint8Array): Promise<void> {
  const before = webpThreadStats().decodes;
  await poll(async () => {
    await decode(file);
    return webpThreadStats().decodes > before;
  }, 100);
  expect(webpThreadStats().decodes).toBeGreaterThan(before);
}

/** Check `done` up to `tries` times, 20 ms apart (what another thread does shows up in between); its last answer. */
async function poll(done: () => boolean | Promise<boolean>, tries: number): Promise<boolean> {
  for (let i = 1; i < tries; i++) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return done();
}

/**
 * A row hook that never returns: a module importing a shared memory (as the threaded build does) and
 * exporting the two functions the helper calls, `stackRestore` (does nothing) and
 * `imgpipe_webp_thread_run` (an endless loop).
 */
const STUCK_ROW_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00, // types: (func (param i32))
  0x02, 0x10, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03, 0x01, 0x01, // import env.memory, shared, 1 page
  0x03, 0x03, 0x02, 0x00, 0x00, // two functions of that type
  0x07, 0x2a, 0x02, // exports:
  0x0c, ...new TextEncoder().encode('stackRestore'), 0x00, 0x00,
  0x17, ...new TextEncoder().encode('imgpipe_webp_thread_run'), 0x00, 0x01,
  0x0a, 0x0c, 0x02, // code:
  0x02, 0x00, 0x0b, // nothing
  0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop { br 0 }
]);

/**
 * With `helper` bound, an 800 px lossy decode fails with INTERNAL and `message`; the next decode, with
 * a helper that works, gives the plain build's pixels (a decode that throws discards its instance).
 */
async function failsThenDecodes(helper: WebpDecodeHelper, message: string): Promise<void> {
  setWebpDecodeHelper(helper);
  const file = await lossy(800);
  await expect(decode(file)).rejects.toMatchObject({ code: 'INTERNAL', message });
  setWebpDecodeHelper(new InlineHelper());
  expect(same(await decode(file), plainDecode(file))).toBe(true);
}

const same = (a: RGBAImage, b: RGBAImage) => a.width === b.width && a.height === b.height && Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));

/**
 * A helper on the calling thread: a second instance on the same shared memory, with its own stack,
 * running each launched row when the decoder waits for it (the latest a real helper could finish).
 * `failAt`: the row (1-based) whose work it reports as failed.
 */
class InlineHelper implements WebpDecodeHelper {
  calls: string[] = [];
  rows = 0;
  private e?: { stackRestore(p: number): void; imgpipe_webp_thread_run(w: number): void };
  private pending = 0;

  constructor(private readonly failAt = 0, private readonly takesPart = true) {}

  bind(module: WebAssembly.Module, memory: WebAssembly.Memory, stackTop: number): boolean {
    this.calls.push('bind');
    if (!this.takesPart) return false;
    const noop = () => 0;
    const e = new WebAssembly.Instance(module, { env: { memory, emscripten_notify_memory_growth: noop, imgpipe_thread_launch: noop, imgpipe_thread_wait: () => 1 } }).exports as unknown as NonNullable<InlineHelper['e']>;
    e.stackRestore(stackTop);
    this.e = e;
    return true;
  }

  launch(worker: number): void {
    this.pending = worker;
  }

  wait(): boolean {
    this.rows++;
    if (this.rows === this.failAt) return false;
    this.e!.imgpipe_webp_thread_run(this.pending);
    return true;
  }

  unbind(): void {
    this.calls.push('unbind');
    this.e = undefined;
  }
}

/** Lossy WebPs from a photo fixture, `width` px wide (sharp's libwebp, quality 80). */
async function lossy(width: number, alpha = false): Promise<Uint8Array> {
  let pipeline = sharp(image('2569067123_aca715a2ee_o.jpg')).resize(width);
  if (alpha) pipeline = pipeline.ensureAlpha(0.5);
  return new Uint8Array(await pipeline.webp({ quality: 80 }).toBuffer());
}

afterEach(() => {
  setWebpDecodeHelper(registered);
});

describe('libwebp on two threads (Node)', () => {
  it('Node loads the threaded build: shared imported memory, the growth notice and the two helper calls as its only imports', async () => {
    expect(registered).toBeDefined();
    const module = new WebAssembly.Module(readFileSync(locateWasm('webp')));
    expect(isThreadedBuild(module)).toBe(true);
    expect(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`).sort()).toEqual([
      'env.emscripten_notify_memory_growth:function', 'env.imgpipe_thread_launch:function', 'env.imgpipe_thread_wait:function', 'env.memory:memory',
    ]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(expect.arrayContaining(['imgpipe_webp_thread_run', 'stackRestore', 'imgpipe_webp_decode']));
    // Every other runtime loads the one-thread build.
    expect(isThreadedBuild(new WebAssembly.Module(readFileSync(join(ROOT, WASM_MODULES.webp.from))))).toBe(false);
  });

  it('decodes on the helper thread with the one-thread build\'s pixels, at full size and scaled on load', async () => {
    const files = [await lossy(1200), await lossy(517)];
    await helperTakingPart(files[1]!);
    for (const file of files) {
      const header = inspect(file);
      const start = webpThreadStats();
      expect(same(await decode(file), plainDecode(file)), `${header.width} px, full size`).toBe(true);
      for (const shrink of [2, 4] as const) {
        const { image: scaled } = await decodeWebpScaled(file, header, shrink);
        expect(same(scaled, plainDecode(file, scaled.width, scaled.height)), `${header.width} px, 1/${shrink}`).toBe(true);
      }
      const end = webpThreadStats();
      expect(end.decodes - start.decodes, `${header.width} px`).toBe(3);
      // One hand-over per macroblock row (16 px) of each of the three decodes.
      expect(end.rows - start.rows).toBe(3 * Math.ceil(header.height / 16));
    }
  });

  it('gives the same pixels when each row\'s work runs as late as it can (the helper as slow as possible)', async () => {
    const helper = new InlineHelper();
    setWebpDecodeHelper(helper);
    const file = await lossy(800);
    const ours = await decode(file);
    expect(same(ours, plainDecode(file))).toBe(true);
    expect(helper.calls).toEqual(['bind', 'unbind']);
    expect(helper.rows).toBe(Math.ceil(ours.height / 16));
  });

  it('refuses a damaged file where the one-thread build refuses it, and otherwise gives its pixels', async () => {
    const file = await lossy(1024);
    await helperTakingPart(file);
    const plain = (bytes: Uint8Array): RGBAImage | undefined => {
      try {
        return plainDecode(bytes);
      } catch {
        return undefined;
      }
    };
    // Eight bytes flipped at each tenth of the file, and the file cut at half and at nine tenths.
    const cases = Array.from({ length: 9 }, (_, k) => {
      const damaged = file.slice();
      const offset = Math.floor((file.byteLength * (k + 1)) / 10);
      for (let i = 0; i < 8; i++) damaged[offset + i] ^= 0x5a;
      return { what: `8 bytes flipped at ${offset}`, bytes: damaged };
    });
    for (const cut of [0.5, 0.9]) cases.push({ what: `cut at ${cut}`, bytes: file.slice(0, Math.floor(file.byteLength * cut)) });
    let refused = 0;
    for (const { what, bytes } of cases) {
      const reference = plain(bytes);
      const before = webpThreadStats().decodes;
      const ours = await decode(bytes).catch((e: unknown) => e);
      expect(webpThreadStats().decodes, what).toBe(before + 1);
      if (reference === undefined) {
        refused++;
        expect(ours, what).toMatchObject({ code: 'CORRUPT_IMAGE', message: 'Expected a decodable WebP but the decoder reported: truncated data' });
      } else {
        expect(same(ours as RGBAImage, reference), what).toBe(true);
      }
    }
    // Both outcomes were exercised: the cut files are refused, the flipped bytes decode to other pixels.
    expect(refused).toBe(2);
  });

  it('decodes on one thread where libwebp would not thread: narrower than 512 px, lossless, with alpha', async () => {
    const helper = new InlineHelper();
    setWebpDecodeHelper(helper);
    const narrow = await lossy(511);
    const lossless = new Uint8Array(await sharp(image('2569067123_aca715a2ee_o.jpg')).resize(800).webp({ lossless: true }).toBuffer());
    const alpha = await lossy(800, true);
    for (const file of [narrow, lossless, alpha]) expect(same(await decode(file), plainDecode(file))).toBe(true);
    expect(helper.calls).toEqual([]);
  });

  it('decodes on one thread when the helper cannot take part (not started, or given up)', async () => {
    const helper = new InlineHelper(0, false);
    setWebpDecodeHelper(helper);
    const file = await lossy(800);
    const before = webpThreadStats();
    expect(same(await decode(file), plainDecode(file))).toBe(true);
    expect(helper.calls).toEqual(['bind']);
    expect(webpThreadStats()).toEqual(before);
  });

  it('fails a decode whose row failed on the helper with a typed error, and decodes the next file', async () => {
    await failsThenDecodes(new InlineHelper(3), 'Expected libwebp\'s decode helper thread to reconstruct every row but a row\'s work failed on it (the 800 px wide WebP decodes on one thread when the helper is not there)');
  });

  it('gives a helper that stops answering up: the row\'s wait ends with a typed error, its thread is stopped, and it is never bound again', async () => {
    const helper = new NodeWebpHelper(300);
    const module = new WebAssembly.Module(STUCK_ROW_MODULE);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    // The first bind starts the thread and says no (that decode would run on one thread).
    expect(helper.bind(module, memory, 0)).toBe(false);
    expect(await poll(() => helper.bind(module, memory, 0), 200)).toBe(true);
    helper.launch(1);
    let thrown: unknown;
    try {
      helper.wait();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'INTERNAL', message: 'Expected libwebp\'s decode helper thread to finish a row within 300 ms but it did not answer' });
    expect(helper.bind(module, memory, 0)).toBe(false);
    // Stopped inside its endless row, rather than left spinning for the process's life.
    expect(await poll(() => helper.threadExited, 250)).toBe(true);
  });

  it('fails a decode whose helper stopped answering mid-file with the timeout\'s typed error, and decodes the next file', async () => {
    // What NodeWebpHelper.wait does when a row does not come back: throws from inside libwebp's wait.
    class TimingOut extends InlineHelper {
      override wait(): boolean {
        if (this.rows === 2) throw helperTimeout(30_000);
        return super.wait();
      }
    }
    await failsThenDecodes(new TimingOut(), 'Expected libwebp\'s decode helper thread to finish a row within 30000 ms but it did not answer');
  });

  it('never keeps a Node process alive: a process that decoded on two threads exits by itself; IMGPIPE_WEBP_THREADS=0 turns the helper off, and worker threads have none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgpipe-webp-threads-'));
    try {
      const file = join(dir, 'photo.webp');
      writeFileSync(file, await lossy(1200));
      const script = join(dir, 'run.mts');
      writeFileSync(script, [
        `import { readFileSync } from 'node:fs';`,
        `import { decode } from ${JSON.stringify(join(ROOT, 'entries/node.ts'))};`,
        `import { webpThreadStats } from ${JSON.stringify(join(ROOT, 'src/codecs/webp-threads.ts'))};`,
        `const bytes = new Uint8Array(readFileSync(${JSON.stringify(file)}));`,
        `for (let i = 0; i < 100 && webpThreadStats().decodes === 0; i++) { await decode(bytes); await new Promise((r) => setTimeout(r, 20)); }`,
        `console.log(JSON.stringify(webpThreadStats()));`,
      ].join('\n'));
      // Exits on its own (no process.exit): the helper, blocked on its futex, is unref'd.
      const out = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(JSON.parse(out.trim()).decodes).toBeGreaterThan(0);
      // IMGPIPE_WEBP_THREADS=0: no helper, every decode on the calling thread (the loop gives up after 100).
      const off = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, IMGPIPE_WEBP_THREADS: '0' } });
      expect(JSON.parse(off.trim())).toEqual({ decodes: 0, rows: 0 });
      // A worker thread loading the entry (a single-file bundle's pool worker) registers no helper of its own.
      // The worker registers tsx's loader itself (a worker does not take the parent's --import hooks),
      // from a folder where the project's packages resolve.
      const body = join(ROOT, 'node_modules', `.imgpipe-webp-threads-${process.pid}.mjs`);
      writeFileSync(body, [
        `import { parentPort } from 'node:worker_threads';`,
        `(await import('tsx/esm/api')).register();`,
        `await import(${JSON.stringify(join(ROOT, 'entries/node.ts'))});`,
        `const { setWebpDecodeHelper } = await import(${JSON.stringify(join(ROOT, 'src/codecs/webp-threads.ts'))});`,
        `parentPort.postMessage(setWebpDecodeHelper(undefined) !== undefined);`,
      ].join('\n'));
      const inWorker = join(dir, 'worker.mjs');
      writeFileSync(inWorker, [
        `import { Worker } from 'node:worker_threads';`,
        `const worker = new Worker(${JSON.stringify(body)}, { execArgv: [] });`,
        `worker.once('message', (registered) => { console.log(JSON.stringify({ registered })); void worker.terminate(); });`,
      ].join('\n'));
      let worker: string;
      try {
        worker = execFileSync(process.execPath, [inWorker], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      } finally {
        rmSync(body, { force: true });
      }
      expect(JSON.parse(worker.trim())).toEqual({ registered: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
