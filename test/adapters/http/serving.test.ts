/**
 * Serving under load: transforms run on the worker pool with the same bytes as in the calling thread,
 * admission control bounds the work in flight and the sources held, a burst over the bound gets OSS's
 * 503 SlowDown with Retry-After, and cheap answers (400, 403, 404, 304, info) never wait behind
 * transforms. Deterministic: the source is held at a gate the test opens, no timings are asserted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import '../../../entries/node.js';
import { bodyBytes, createFetchHandler } from '../../../adapters/http/handler.js';
import { createNodeListener } from '../../../adapters/http/node.js';
import { createFcHttpHandler } from '../../../adapters/http/fc.js';
import { createAdmission, type AdmissionPass } from '../../../adapters/http/admission.js';
import { instanceAdmission } from '../../../adapters/http/serving.js';
import { createEarlyRefusal, type EarlyRequest } from '../../../adapters/http/early.js';
import { KNOWN_ENTRIES, KNOWN_TTL_MS, knownEntry, knownObjects } from '../../../adapters/http/known.js';
import { fetchSource, type ImageSource } from '../../../adapters/http/source.js';
import { createWorkerPool, type WorkerPool } from '../../../pool/index.js';
import { ImgpipeError } from '../../../src/errors.js';
import { parseProcess } from '../../../src/index.js';
import { fcTriggerListener, listen, originListener } from './servers.js';

const IMAGES = new URL('../../fixtures/images/', import.meta.url);
const servers: Server[] = [];
let origin: string;
let pool: WorkerPool;
const q = (process: string) => `?x-oss-process=${encodeURIComponent(process)}`;
const b64 = (s: string) => Buffer.from(s).toString('base64url');
/** A load the Node defaults must serve without a refusal (64 connections, plus FC's up to 100 at once). */
const DEFAULT_CONNECTIONS = 100;

/** The fixture origin, with `get` of the existing objects held at a gate until the test opens it. */
function gated(source: ImageSource) {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  let waiting = 0;
  return {
    open,
    waiting: () => waiting,
    source: {
      async get(key, options) {
        if (!(await source.head!(key))) return source.get(key, options);
        waiting++;
        await opened;
        return source.get(key, options);
      },
      head: (key) => source.head!(key),
    } satisfies ImageSource,
  };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

beforeAll(async () => {
  const o = await listen(originListener(IMAGES, []));
  servers.push(o.server);
  origin = o.url;
  pool = createWorkerPool({ threads: 2 });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await pool.close();
});

describe('transforms on the worker pool', () => {
  const strings = [
    'image/resize,w_200/format,webp',
    'image/resize,m_fill,w_120,h_120/rotate,90/format,png',
    `image/watermark,text_${b64('imgpipe')},size_20/watermark,image_${b64('with-alpha.png?x-oss-process=image/resize,P_20')},g_se`,
    'image/crop,w_100,h_80,g_center/blur,r_3,s_2/quality,q_70',
    'image/resize,w_64/average-hue',
  ];

  for (const fc of [false, true]) {
    it(`${fc ? 'the FC HTTP handler' : 'createNodeListener'} gives the calling thread's bytes, headers and errors`, async () => {
      const lone = createFetchHandler({ source: fetchSource(origin) });
      const listener = fc ? fcTriggerListener(createFcHttpHandler({ source: fetchSource(origin), pool })) : createNodeListener({ source: fetchSource(origin), pool });
      const { server, url } = await listen(listener);
      servers.push(server);
      const before = pool.stats().completed;
      for (const s of strings) {
        const [a, b] = await Promise.all([lone(new Request(`http://h/Landscape_6.jpg${q(s)}`)), fetch(`${url}/Landscape_6.jpg${q(s)}`)]);
        expect(b.status, s).toBe(a.status);
        expect(b.headers.get('content-type'), s).toBe(a.headers.get('content-type'));
        expect(Buffer.from(await b.arrayBuffer()).equals(Buffer.from(await a.arrayBuffer())), s).toBe(true);
      }
      expect(pool.stats().completed - before).toBe(strings.length);
      // A refusal raised on the worker keeps OSS's Code and EC.
      const bad = 'image/crop,x_5000,y_10';
      const [a, b] = await Promise.all([lone(new Request(`http://h/320x240.jpg${q(bad)}`)), fetch(`${url}/320x240.jpg${q(bad)}`)]);
      expect(b.status).toBe(400);
      expect(b.headers.get('x-oss-ec')).toBe(a.headers.get('x-oss-ec'));
      const codeOf = (xml: string) => /<Code>(.*)<\/Code>/.exec(xml)?.[1];
      expect(codeOf(await b.text())).toBe(codeOf(await a.text()));
    });
  }

  it('moves a source the caller gave up to the worker, shares one in shared memory, and copies bytes that share their buffer or were not given up', async () => {
    const file = new Uint8Array(await readFile(new URL('Landscape_6.jpg', IMAGES)));
    const ops = parseProcess('image/resize,w_96/format,webp');
    const lone = await pool.transform(file.slice(), ops);
    // Given up and the whole of its buffer: moved (detached here).
    const given = file.slice();
    const moved = await pool.transform(given, ops, { transferSource: true });
    expect(given.byteLength).toBe(0);
    expect(Buffer.from(moved.bytes).equals(Buffer.from(lone.bytes))).toBe(true);
    // Given up but a view into a larger buffer (a Buffer pool's slab, say): copied.
    const padded = new Uint8Array(file.byteLength + 16);
    padded.set(file, 16);
    const part = padded.subarray(16);
    expect(Buffer.from((await pool.transform(part, ops, { transferSource: true })).bytes).equals(Buffer.from(lone.bytes))).toBe(true);
    expect(part.byteLength).toBe(file.byteLength);
    // Not given up: copied.
    const kept = file.slice();
    await pool.transform(kept, ops);
    expect(Buffer.from(kept).equals(Buffer.from(file))).toBe(true);
    // In shared memory (a source cache's kept copy): sent as it is, neither moved nor copied.
    const shared = new Uint8Array(new SharedArrayBuffer(file.byteLength));
    shared.set(file);
    expect(Buffer.from((await pool.transform(shared, ops, { transferSource: true })).bytes).equals(Buffer.from(lone.bytes))).toBe(true);
    expect(Buffer.from(shared).equals(Buffer.from(file))).toBe(true);
  });

  it('an image answer and an error keep their bytes for the Node wrappers, the same the Response streams; HEAD has none', async () => {
    const handler = createFetchHandler({ source: fetchSource(origin) });
    const ok = await handler(new Request(`http://h/Landscape_6.jpg${q('image/resize,w_64')}`));
    const kept = bodyBytes(ok);
    expect(kept).toBeDefined();
    expect(Buffer.from(kept!).equals(Buffer.from(await ok.arrayBuffer()))).toBe(true);
    expect(Number(ok.headers.get('content-length'))).toBe(kept!.byteLength);
    expect(bodyBytes(await handler(new Request(`http://h/Landscape_6.jpg${q('image/resize,w_64')}`, { method: 'HEAD' })))).toBeUndefined();
    const missing = await handler(new Request(`http://h/missing.jpg${q('image/resize,w_64')}`));
    const xml = bodyBytes(missing);
    expect(new TextDecoder().decode(xml)).toContain('<Code>NoSuchKey</Code>');
    expect(Buffer.from(xml!).equals(Buffer.from(await missing.arrayBuffer()))).toBe(true);
    expect(Number(missing.headers.get('content-length'))).toBe(xml!.byteLength);
    expect(bodyBytes(await handler(new Request(`http://h/missing.jpg${q('image/resize,w_64')}`, { method: 'HEAD' })))).toBeUndefined();
  });

  it('info alone stays in the calling thread', async () => {
    const before = pool.stats().completed;
    const out = await pool.transform(new Uint8Array(await readFile(new URL('320x240.jpg', IMAGES))), [{ action: 'info', params: {} }] as never);
    expect(JSON.parse(new TextDecoder().decode(out.bytes)).ImageWidth.value).toBe('320');
    expect(pool.stats().completed).toBe(before);
  });
});

describe('admission control', () => {
  it('a burst over the bound gets 503 SlowDown with Retry-After; the admitted get a lone request\'s bytes; cheap answers never wait', async () => {
    const process = 'image/resize,w_300/format,webp';
    const lone = await (await createFetchHandler({ source: fetchSource(origin) })(new Request(`http://h/Landscape_6.jpg${q(process)}`))).arrayBuffer();
    const etag = (await createFetchHandler({ source: fetchSource(origin) })(new Request(`http://h/320x240.jpg${q(process)}`))).headers.get('etag')!;
    const gate = gated(fetchSource(origin));
    const admission = createAdmission({ maxInFlight: 2, maxQueue: 3, retryAfter: 2 });
    const { server, url } = await listen(createNodeListener({ source: gate.source, pool, admission }));
    servers.push(server);

    const burst = Array.from({ length: 12 }, () => fetch(`${url}/Landscape_6.jpg${q(process)}`));
    await until(() => admission.stats().refused === 7);
    expect(admission.stats()).toMatchObject({ inFlight: 2, queued: 3 });

    // Everything is full and the gate is shut: these answer anyway. A transform of a missing key is
    // 404 NoSuchKey, as OSS answers it whatever the load.
    const cheap = await Promise.all([
      fetch(`${url}/Landscape_6.jpg${q('image/resize,w_0')}`), // 400
      fetch(`${url}/missing.jpg${q(process)}`), // 404, from a HEAD
      fetch(`${url}/320x240.jpg${q(process)}`, { headers: { 'if-none-match': etag } }), // 304
    ]);
    expect(cheap.map((r) => r.status)).toEqual([400, 404, 304]);
    expect(await cheap[1].text()).toContain('<Code>NoSuchKey</Code>');
    expect(gate.waiting()).toBe(2); // only the admitted two read their source

    gate.open();
    const answers = await Promise.all(burst);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(5).fill(200), ...Array(7).fill(503)]);
    for (const r of answers) {
      const body = new Uint8Array(await r.arrayBuffer());
      if (r.status === 200) {
        expect(Buffer.from(body).equals(Buffer.from(lone))).toBe(true);
      } else {
        expect(r.headers.get('retry-after')).toBe('2');
        expect(r.headers.get('content-type')).toBe('application/xml');
        expect(new TextDecoder().decode(body)).toContain('<Code>SlowDown</Code>');
      }
    }
    const size = (await readFile(new URL('Landscape_6.jpg', IMAGES))).byteLength;
    expect(admission.stats()).toMatchObject({ inFlight: 0, queued: 0, bytesHeld: 0, peakInFlight: 2, peakQueued: 3, admitted: 5, refused: 7 });
    expect(admission.stats().peakBytesHeld).toBeLessThanOrEqual(2 * size);
  });

  for (const fc of [false, true]) {
    it(`${fc ? 'the FC HTTP handler' : 'the Node listener'} refuses a transform of a stored object with no lookup while the queue is full, and a missing key is 404`, async () => {
      const gate = gated(fetchSource(origin));
      let heads = 0;
      const source = { get: gate.source.get, head: (key: string) => { heads++; return gate.source.head(key); } };
      const admission = createAdmission({ maxInFlight: 1, maxQueue: 0, retryAfter: 4 });
      const options = { source, pool, admission, hostId: 'img.example.com' };
      const { server, url } = await listen(fc ? fcTriggerListener(createFcHttpHandler(options)) : createNodeListener(options));
      servers.push(server);
      const held = fetch(`${url}/Landscape_6.jpg${q('image/resize,w_100')}`);
      await until(() => admission.stats().inFlight === 1);
      // The first refusal looks the object up (it might be missing); the next ones know it exists.
      const refusals = [];
      for (const process of ['image/resize,w_100/format,webp', 'image/resize,w_100/format,webp', 'image/resize,w_90']) {
        refusals.push(await fetch(`${url}/Landscape_6.jpg${q(process)}`));
        expect(heads).toBe(1);
      }
      for (const refused of refusals) {
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('4');
        expect(refused.headers.get('content-type')).toBe('application/xml');
        expect(refused.headers.get('cache-control')).toBe('no-store');
        expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
        const xml = await refused.text();
        expect(refused.headers.get('content-length')).toBe(String(Buffer.byteLength(xml)));
        expect(xml).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Expected room for the transform but 1 are running (admission.maxInFlight 1), ' +
          `holding 0 source bytes (maxSourceBytes 268435456), and 0 are waiting (maxQueue 0): retry after 4 s</Message><RequestId>${refused.headers.get('x-oss-request-id')}</RequestId><HostId>img.example.com</HostId></Error>`);
      }
      const head = await fetch(`${url}/Landscape_6.jpg${q('image/resize,w_100')}`, { method: 'HEAD' });
      expect([head.status, await head.text()]).toEqual([503, '']);
      // A missing key is 404 NoSuchKey from one lookup; asked again at once, from none.
      for (let i = 0; i < 2; i++) {
        const missing = await fetch(`${url}/missing.jpg${q('image/resize,w_100')}`);
        expect(missing.status).toBe(404);
        expect(await missing.text()).toContain('<Code>NoSuchKey</Code>');
        expect(heads).toBe(2);
      }
      // A bad string is still a 400, and info alone is served, while every transform is refused.
      const info = fetch(`${url}/320x240.jpg${q('image/info')}`);
      const bad = await fetch(`${url}/Landscape_6.jpg${q('image/resize,w_0')}`);
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('<Code>InvalidArgument</Code>');
      await until(() => gate.waiting() === 2);
      gate.open();
      expect([(await info).status, (await held).status]).toEqual([200, 200]);
      expect(admission.stats()).toMatchObject({ admitted: 1, refused: 4 });
    });
  }

  it('the early refusal answers only a transform of a known object while the admission refuses, without a Request', async () => {
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 0, retryAfter: 2 });
    const refuse = createEarlyRefusal({ source: fetchSource(origin), extensions: false }, admission);
    const ask = (r: Partial<EarlyRequest> & { process?: () => string | null } = {}) =>
      refuse({ method: 'GET', path: '/a%20b.jpg', process: () => 'image/resize,w_100', host: 'img.example.com', conditional: false, ...r });
    const known = knownObjects(admission);
    known.add('/a%20b.jpg');
    expect(ask()).toBeUndefined(); // room: not refusing
    const running = await admission.enter();
    const refused = ask()!;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('2');
    expect(new TextDecoder().decode(refused.body)).toContain('<Code>SlowDown</Code><Message>Expected room for the transform but 1 are running');
    expect(new TextDecoder().decode(refused.body)).toContain('<HostId>img.example.com</HostId>');
    expect(ask({ method: 'HEAD' })!.body).toBeUndefined();
    // Left to the handler: an object not seen yet, info alone, a bad string, an extension without
    // extensions, a conditional or CORS request, POST, no process string, a style.
    expect(ask({ path: '/other.jpg' })).toBeUndefined();
    expect(ask({ process: () => 'image/info' })).toBeUndefined();
    expect(ask({ process: () => 'image/resize,w_0' })).toBeUndefined();
    expect(ask({ process: () => 'image/resize,w_100/flip,h' })).toBeUndefined();
    expect(ask({ conditional: true })).toBeUndefined();
    expect(ask({ method: 'POST' })).toBeUndefined();
    expect(ask({ process: () => null })).toBeUndefined();
    expect(ask({ process: () => 'style/small' })).toBeUndefined();
    expect(admission.stats().refused).toBe(2);
    running.leave();
    expect(ask()).toBeUndefined();
  });

  it('info never waits behind transforms', async () => {
    const gate = gated(fetchSource(origin));
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 0 });
    const handler = createFetchHandler({ source: gate.source, admission });
    const held = handler(new Request(`http://h/Landscape_6.jpg${q('image/resize,w_100')}`));
    await until(() => admission.stats().inFlight === 1);
    const refused = await handler(new Request(`http://h/Landscape_6.jpg${q('image/resize,w_100')}`));
    expect(refused.status).toBe(503);
    const info = handler(new Request(`http://h/320x240.jpg${q('image/info')}`));
    await until(() => gate.waiting() === 2); // info reads its source at once, admitted or not
    gate.open();
    expect((await info).status).toBe(200);
    expect((await held).status).toBe(200);
    expect(admission.stats().admitted).toBe(1);
  });

  it('a new transform waits while the running ones hold maxSourceBytes; one larger than the budget alone still runs', async () => {
    const admission = createAdmission({ maxInFlight: 4, maxQueue: 4, maxSourceBytes: 1000 });
    const first = await admission.enter();
    first.hold(5000);
    expect(admission.free()).toBe(false);
    const second = admission.enter();
    expect(admission.stats().queued).toBe(1);
    first.leave();
    (await second).leave();
    expect(admission.stats()).toMatchObject({ inFlight: 0, queued: 0, bytesHeld: 0, peakBytesHeld: 5000, admitted: 2 });
  });

  it('a waiting request whose client leaves gives its place up', async () => {
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 1 });
    const running = await admission.enter();
    const controller = new AbortController();
    const waiting = admission.enter(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(admission.stats().queued).toBe(0);
    running.leave();
  });

  it('a request that waited maxWaitMs is refused with SlowDown too, before a client would time out', async () => {
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 4, maxWaitMs: 1, retryAfter: 3 });
    const running = await admission.enter();
    const e = await admission.enter().then(() => undefined, (err: ImgpipeError) => err);
    expect(e).toBeInstanceOf(ImgpipeError);
    expect(e!.code).toBe('OVERLOADED');
    expect(e!.details?.retryAfter).toBe(3);
    expect(e!.message).toContain('waited 1 ms (maxWaitMs)');
    expect(admission.stats()).toMatchObject({ queued: 0, refused: 1 });
    running.leave();
  });

  it('a request is never refused on arrival for the wait the recent pace predicts: only a full queue refuses at once', async () => {
    vi.useFakeTimers();
    try {
      const admission = createAdmission({ maxInFlight: 1, maxQueue: 3, maxWaitMs: 1000, retryAfter: 2 });
      const first = await admission.enter();
      vi.advanceTimersByTime(900);
      first.leave(); // places are now held 900 ms: three in line would wait about 2.7 s by that pace
      const running = await admission.enter();
      const queued = [admission.enter(), admission.enter(), admission.enter()];
      const outcomes = queued.map((p) => p.then((pass) => pass, (err: ImgpipeError) => err));
      expect(admission.stats()).toMatchObject({ queued: 3, refused: 0 });
      expect(admission.refusing()).toBe(true); // the queue is full now
      const fourth = await admission.enter().then(() => undefined, (err: ImgpipeError) => err);
      expect(fourth!.message).toContain('and 3 are waiting (maxQueue 3): retry after');
      // The first in line gets the next place; the others hear 503 once they waited maxWaitMs.
      vi.advanceTimersByTime(50);
      running.leave();
      const next = (await outcomes[0]) as AdmissionPass;
      vi.advanceTimersByTime(950);
      for (const late of outcomes.slice(1)) expect(await late).toMatchObject({ code: 'OVERLOADED', message: expect.stringContaining('waited 1000 ms (maxWaitMs)') });
      next.leave();
      expect(admission.stats()).toMatchObject({ queued: 0, admitted: 3, refused: 3 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('at its turn, a request whose wait plus the recent time a place is held passes maxWaitMs is refused, and the place goes to the next', async () => {
    vi.useFakeTimers();
    try {
      const admission = createAdmission({ maxInFlight: 1, maxQueue: 4, maxWaitMs: 1000, retryAfter: 2 });
      const warm = await admission.enter();
      vi.advanceTimersByTime(600);
      warm.leave(); // places are held 600 ms
      const running = await admission.enter();
      const older = admission.enter().then((pass) => pass, (err: ImgpipeError) => err);
      vi.advanceTimersByTime(300);
      const newer = admission.enter().then((pass) => pass, (err: ImgpipeError) => err);
      vi.advanceTimersByTime(200);
      running.leave(); // held 500 ms: the pace is now 580 ms
      expect(await older).toMatchObject({
        code: 'OVERLOADED',
        message: expect.stringContaining('and this request waited 500 ms and a place is held about 580 ms at the recent pace (maxWaitMs 1000): retry after'),
      });
      const admitted = (await newer) as AdmissionPass; // waited 200 ms: 780 in all
      expect(admission.stats()).toMatchObject({ inFlight: 1, queued: 0, refused: 1 });
      admitted.leave();
    } finally {
      vi.useRealTimers();
    }
  });

  it(`the Node defaults serve ${DEFAULT_CONNECTIONS} concurrent transforms on 2 threads, each a lone request's bytes; past maxInFlight + maxQueue, 503s`, async () => {
    const process = 'image/resize,w_64/format,webp';
    const lone = new Uint8Array(await (await createFetchHandler({ source: fetchSource(origin) })(new Request(`http://h/320x240.jpg${q(process)}`))).arrayBuffer());
    // The defaults' counts (maxWaitMs stretched: the time bound is the benchmark's to measure, not this test's).
    const defaults = { ...instanceAdmission(2), maxWaitMs: 600_000 };
    // Every request is held at the gate or in the queue until all have arrived: nothing is served early.
    const gate = gated(fetchSource(origin));
    const admission = createAdmission(defaults);
    const handler = createFetchHandler({ source: gate.source, runTransform: pool.transform, admission });
    const served = Array.from({ length: DEFAULT_CONNECTIONS }, () => handler(new Request(`http://h/320x240.jpg${q(process)}`)));
    await until(() => admission.stats().queued === DEFAULT_CONNECTIONS - defaults.maxInFlight);
    expect(admission.refusing()).toBe(false);
    gate.open();
    for (const r of await Promise.all(served)) {
      expect(r.status).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(lone))).toBe(true);
    }
    expect(admission.stats()).toMatchObject({ admitted: DEFAULT_CONNECTIONS, refused: 0 });

    // Over the bound: the running and waiting places full, the next ones are refused at once.
    const full = gated(fetchSource(origin));
    const over = createAdmission(defaults);
    const overHandler = createFetchHandler({ source: full.source, runTransform: pool.transform, admission: over });
    const bound = defaults.maxInFlight + defaults.maxQueue;
    const all = Array.from({ length: bound + 3 }, () => overHandler(new Request(`http://h/320x240.jpg${q(process)}`)));
    await until(() => over.stats().refused === 3);
    expect(over.stats()).toMatchObject({ inFlight: defaults.maxInFlight, queued: defaults.maxQueue });
    full.open();
    const statuses = await Promise.all(all.map(async (p) => {
      const r = await p;
      if (r.status === 200) expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(lone))).toBe(true);
      else expect([r.headers.get('retry-after'), await r.text()]).toEqual([expect.stringMatching(/^\d+$/), expect.stringContaining('<Code>SlowDown</Code>')]);
      return r.status;
    }));
    expect(statuses.filter((s) => s === 200)).toHaveLength(bound);
    expect(statuses.filter((s) => s === 503)).toHaveLength(3);
  });

  it('spreads Retry-After over the time the admitted transforms need at the recent pace, never below retryAfter', async () => {
    vi.useFakeTimers();
    const random = vi.spyOn(Math, 'random');
    try {
      const admission = createAdmission({ maxInFlight: 2, maxQueue: 2, maxWaitMs: 60_000, retryAfter: 2 });
      const warm = await admission.enter();
      vi.advanceTimersByTime(4000);
      warm.leave(); // places are now held 4 s on average
      const held = [await admission.enter(), await admission.enter()];
      const queued = [admission.enter(), admission.enter()];
      // 2 running and 2 waiting, 2 at a time, 4 s each: all done in about 8 s.
      const retryAfter = async (r: number) => {
        random.mockReturnValue(r);
        const e = await admission.enter().then(() => undefined, (err: ImgpipeError) => err);
        expect(e!.message).toContain(`: retry after ${e!.details?.retryAfter} s`);
        return e!.details?.retryAfter;
      };
      expect([await retryAfter(0), await retryAfter(0.5), await retryAfter(0.999)]).toEqual([2, 6, 10]);
      for (const p of held) p.leave();
      for (const p of queued) (await p).leave();
    } finally {
      vi.useRealTimers();
      random.mockRestore();
    }
  });

  it('while refusing, a missing key is 404 from one lookup and a stored object 503 with none once seen', async () => {
    const gate = gated(fetchSource(origin));
    let heads = 0, missingGets = 0;
    const source: ImageSource = {
      get: (key, o) => { if (key === 'missing.jpg') missingGets++; return gate.source.get(key, o); },
      head: (key: string) => { heads++; return gate.source.head(key); },
    };
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 1 });
    const handler = createFetchHandler({ source, admission });
    const held = handler(new Request(`http://h/Landscape_6.jpg${q('image/resize,w_100')}`));
    await until(() => admission.stats().inFlight === 1);
    // Room to wait: a missing key is answered from a HEAD at once, without queueing (the HEAD says
    // it is missing: no read follows).
    const first404 = await handler(new Request(`http://h/missing.jpg${q('image/resize,w_100')}`));
    expect([first404.status, heads, missingGets]).toEqual([404, 1, 0]);
    expect(await first404.text()).toContain('<Message>Expected an object at key &quot;missing.jpg&quot; but the origin has none</Message>');
    const waiting = handler(new Request(`http://h/Landscape_6.jpg${q('image/resize,w_100')}`));
    await until(() => admission.stats().queued === 1);
    expect(heads).toBe(2);
    // Full: the stored object, seen by the HEAD above, is refused at once with no lookup; the missing
    // key is a 404 from one lookup, then from none for a second.
    const refused = await Promise.all([handler(new Request(`http://h/Landscape_6.jpg${q('image/resize,w_100')}`)), handler(new Request(`http://h/missing.jpg${q('image/resize,w_100')}`))]);
    expect(refused.map((r) => r.status)).toEqual([503, 404]);
    expect([heads, missingGets]).toEqual([3, 0]);
    const again = await handler(new Request(`http://h/missing.jpg${q('image/resize,w_100')}`));
    expect(again.status).toBe(404);
    expect(heads).toBe(3);
    const xml = await again.text();
    expect(xml).toContain('<Code>NoSuchKey</Code>');
    expect(xml).toContain('<Message>Expected an object at key &quot;missing.jpg&quot; but the origin has none</Message>');
    // The XML is written from its bytes by the Node wrappers.
    expect(new TextDecoder().decode(bodyBytes(refused[0]))).toContain('<Code>SlowDown</Code>');
    expect(refused[0].headers.get('content-length')).toBe(String(bodyBytes(refused[0])!.byteLength));
    gate.open();
    expect([(await held).status, (await waiting).status]).toEqual([200, 200]);
  });

  it('remembers at most KNOWN_ENTRIES objects for KNOWN_TTL_MS, the oldest forgotten first', () => {
    vi.useFakeTimers();
    try {
      const known = knownObjects(createAdmission());
      for (let i = 0; i <= KNOWN_ENTRIES; i++) known.add(`/${i}.jpg`);
      expect(known.has('/0.jpg')).toBe(false);
      expect(known.has('/1.jpg')).toBe(true);
      expect(known.has(`/${KNOWN_ENTRIES}.jpg`)).toBe(true);
      vi.advanceTimersByTime(KNOWN_TTL_MS);
      expect(known.has('/1.jpg')).toBe(false);
      expect(knownEntry(true, 'photos.example.com:8080', '/a.jpg')).toBe('photos\n/a.jpg');
      expect(knownEntry(true, 'a b', '/a.jpg')).toBeUndefined();
      expect(knownEntry(false, 'a b', '/a.jpg')).toBe('/a.jpg');
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses bad bounds with the range and the value', () => {
    expect(() => createAdmission({ maxInFlight: 0 })).toThrow(ImgpipeError);
    expect(() => createAdmission({ maxInFlight: 0 })).toThrow('Expected an integer between 1 and 4096 for admission.maxInFlight but received 0');
    expect(() => createAdmission({ retryAfter: 1.5 })).toThrow('Expected an integer between 1 and 3600 for admission.retryAfter but received 1.5');
  });

  it('Node defaults come from the instance: two in flight per thread, 256 waiting for 5 s, sources bounded by memory', () => {
    const d = instanceAdmission(2);
    expect(d).toMatchObject({ maxInFlight: 4, maxQueue: 256, maxWaitMs: 5000 });
    expect(d.maxSourceBytes).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(d.maxSourceBytes).toBeLessThanOrEqual(512 * 1024 * 1024);
  });
});
