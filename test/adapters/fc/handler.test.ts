import OSS from 'ali-oss';
import { CloudEvent, HTTP } from 'cloudevents';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUrlKey } from '../../../adapters/events/keys.js';
import { createUploadHandler, type HandlerResult, type UploadHandler } from '../../../adapters/fc/handler.js';
import type { LogRecord } from '../../../adapters/fc/log.js';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';
import { isImgpipeError } from '../../../src/errors.js';
import { recipeHash } from '../../../adapters/fc/recipe-hash.js';
import { DEFAULT_RECIPE, runRecipe } from '../../../src/recipe.js';

const FIXTURES = join(__dirname, '../../fixtures');
const credential = { accessKeyId: 'LTAIhandlertest01', accessKeySecret: 'handler-secret-do-not-log' };
const context = { requestId: 'req-test', region: 'cn-hangzhou', credentials: { ...credential } };

let root: string;
let server: LocalOss;
let upload: UploadHandler;
const logs: LogRecord[] = [];
let flowers: Buffer;
let small: Buffer;

function client(bucket: string): OSS {
  return new OSS({ ...credential, bucket, endpoint: server.endpoint, region: 'oss-cn-hangzhou' });
}

/** An OSS trigger payload, as FC hands it over (a Buffer). */
function ossEvent(bucket: string, key: string, etag: string, size: number, userMeta: Record<string, string> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    events: [{
      eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', eventTime: new Date().toISOString(), eventVersion: '1.0', region: 'cn-hangzhou',
      oss: { bucket: { arn: `acs:oss:cn-hangzhou:1:${bucket}`, name: bucket }, object: { key, eTag: etag, size, deltaSize: size, objectMeta: { mimeType: 'image/jpeg', userMeta } }, ossSchemaVersion: '1.0' },
      responseElements: { requestId: `R-${etag}` },
    }],
  }));
}

/** Seed an object without triggering an event (straight into the server's store). */
async function seed(key: string, bytes: Uint8Array): Promise<string> {
  return (await server.storage('photos').put(key, bytes, { contentType: 'image/jpeg' })).etag;
}

const outputKeys = (name: string) => [
  ...['large', 'medium', 'thumb'].flatMap((s) => [`resized/${s}/${name}.jpg`, `webp/${s}/${name}.webp`]),
  `meta/${name}.json`,
];

beforeAll(async () => {
  flowers = await readFile(join(FIXTURES, 'images/flowers.jpeg'));
  small = await readFile(join(FIXTURES, 'images/320x240.jpg'));
  root = await mkdtemp(join(tmpdir(), 'imgpipe-fc-'));
  // The trigger calls whatever `upload` is when an object is created (it is built once the endpoint is known).
  server = await startLocalOss({
    root,
    buckets: ['photos', 'photos-out'],
    credentials: [credential],
    notify: { handler: (event, ctx) => upload.handler(event, ctx), buckets: ['photos'], retries: 2, retryDelayMs: 20 },
  });
  // The handler reaches the local server through the documented endpoint variable.
  upload = createUploadHandler({
    sourceBucket: 'photos',
    targetBucket: 'photos-out',
    sourcePrefix: 'uploads/',
    retry: { baseDelayMs: 5 },
    env: { IMGPIPE_OSS_ENDPOINT: server.endpoint },
    log: (r) => logs.push(r),
  });
  await upload.initialize(context);
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('upload handler end to end (ali-oss → local OSS → trigger → handler → ali-oss)', () => {
  const key = 'uploads/summer 2024/flowers+ü 100%.jpeg';
  const name = 'uploads/summer 2024/flowers+ü 100%';

  it('turns an upload into six variants and a manifest in the target bucket', async () => {
    const put = await client('photos').put(key, flowers, { mime: 'image/jpeg' });
    const etag = String((put.res.headers as Record<string, string>).etag).replace(/"/g, '');
    await server.idle();

    const mine = server.invocations.filter((i) => i.key === key);
    expect(mine).toHaveLength(1);
    expect(mine[0].ok).toBe(true);
    expect((mine[0].result as HandlerResult).outcomes[0]).toMatchObject({ status: 'processed', variants: 6, manifestKey: `meta/${name}.json` });

    const out = client('photos-out');
    const listed = await out.listV2({ prefix: '', 'max-keys': 100 } as OSS.ListV2ObjectsQuery, {});
    expect(listed.objects.map((o) => o.name).sort()).toEqual(outputKeys(name).sort());

    const widths: Record<string, number> = { large: 1200, medium: 600, thumb: 150 };
    for (const size of Object.keys(widths)) {
      for (const [k, format, mime] of [[`resized/${size}/${name}.jpg`, 'jpeg', 'image/jpeg'], [`webp/${size}/${name}.webp`, 'webp', 'image/webp']] as const) {
        const got = await out.get(k);
        const headers = got.res.headers as Record<string, string>;
        expect(headers['content-type']).toBe(mime);
        expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(headers['x-oss-meta-imgpipe-source-etag']).toBe(etag);
        expect(headers['x-oss-meta-imgpipe-recipe']).toBe(recipeHash(DEFAULT_RECIPE));
        expect(decodeURIComponent(headers['x-oss-meta-imgpipe-source-key'])).toBe(key);
        const meta = await sharp(got.content).metadata();
        expect(meta.format).toBe(format);
        expect(meta.width).toBe(widths[size]);
        expect(meta.height).toBe(Math.round((widths[size] * 1080) / 1920));
      }
    }

    const manifest = JSON.parse(Buffer.from((await out.get(`meta/${name}.json`)).content).toString());
    expect(manifest).toMatchObject({
      version: 1,
      status: 'ok',
      source: { bucket: 'photos', key, etag, bytes: flowers.length, format: 'jpeg', width: 1920, height: 1080 },
    });
    expect(manifest.variants).toHaveLength(6);
    expect(manifest.variants[0]).toMatchObject({ key: `resized/large/${name}.jpg`, width: 1200, height: 675, contentType: 'image/jpeg' });
    expect(manifest.variants.every((v: { bytes: number }) => v.bytes > 0)).toBe(true);
    // The placeholder is the recipe's, from the same bytes.
    expect(manifest.placeholder).toEqual((await runRecipe(flowers, { key })).placeholder);
  });

  it('skips a replayed event with one HEAD per output, writing nothing', async () => {
    const info = (await server.storage('photos').head(key))!;
    const puts = server.stats.PutObject;
    const heads = server.stats.HeadObject ?? 0;
    const r = await upload.handler(ossEvent('photos', key, info.etag, info.size), context);
    expect(r.outcomes).toEqual([{ eventId: `R-${info.etag}/${key}`, bucket: 'photos', key, status: 'skipped', reason: 'already-processed' }]);
    expect(server.stats.PutObject).toBe(puts);
    expect((server.stats.HeadObject ?? 0) - heads).toBe(7);
  });

  it('re-processes a set made by another recipe, and says which recipe made each output', async () => {
    const info = (await server.storage('photos').head(key))!;
    const recipe = { ...DEFAULT_RECIPE, outputs: [DEFAULT_RECIPE.outputs[0]] };
    expect(recipeHash(recipe)).not.toBe(recipeHash(DEFAULT_RECIPE));
    // Key order and omitted-vs-undefined fields do not change the hash; the values do.
    expect(recipeHash({ outputs: DEFAULT_RECIPE.outputs, sizes: DEFAULT_RECIPE.sizes, watermark: DEFAULT_RECIPE.watermark, cacheControl: DEFAULT_RECIPE.cacheControl, linear: undefined })).toBe(recipeHash(DEFAULT_RECIPE));
    const other = createUploadHandler({ sourceBucket: 'photos', targetBucket: 'photos-out', sourcePrefix: 'uploads/', recipe, env: { IMGPIPE_OSS_ENDPOINT: server.endpoint }, log: () => undefined });
    const r = await other.handler(ossEvent('photos', key, info.etag, info.size), context);
    expect(r.outcomes[0]).toMatchObject({ status: 'processed', variants: 3 });
    expect((await server.storage('photos-out').head(`meta/${name}.json`))!.meta['imgpipe-recipe']).toBe(recipeHash(recipe));
    // Back to the default recipe: its set is stale now, so the replay is processed, not skipped.
    const back = await upload.handler(ossEvent('photos', key, info.etag, info.size), context);
    expect(back.outcomes[0]).toMatchObject({ status: 'processed', variants: 6 });
    expect((await server.storage('photos-out').head(`resized/thumb/${name}.jpg`))!.meta['imgpipe-recipe']).toBe(recipeHash(DEFAULT_RECIPE));
  });

  it('re-processes the same key when its ETag changes', async () => {
    await client('photos').put(key, small, { mime: 'image/jpeg' });
    await server.idle();
    const newEtag = (await server.storage('photos').head(key))!.etag;
    const manifest = JSON.parse(Buffer.from((await client('photos-out').get(`meta/${name}.json`)).content).toString());
    expect(manifest.source).toMatchObject({ etag: newEtag, width: 320, height: 240 });
    const large = await sharp((await client('photos-out').get(`resized/large/${name}.jpg`)).content).metadata();
    expect(large.width).toBe(320);
  });

  it('records a corrupt upload in an error manifest, and resolves so FC does not retry it', async () => {
    const bad = await readFile(join(FIXTURES, 'bad/truncated.jpg'));
    await client('photos').put('uploads/broken.jpg', bad, { mime: 'image/jpeg' });
    await server.idle();
    const mine = server.invocations.filter((i) => i.key === 'uploads/broken.jpg');
    expect(mine).toHaveLength(1);
    expect(mine[0].ok).toBe(true);
    const outcome = (mine[0].result as HandlerResult).outcomes[0];
    expect(outcome.status).toBe('failed');
    const manifest = JSON.parse(Buffer.from((await client('photos-out').get('meta/uploads/broken.json')).content).toString());
    expect(manifest).toMatchObject({ status: 'failed', source: { key: 'uploads/broken.jpg', bytes: bad.length }, error: { code: outcome.code } });
    expect(['CORRUPT_IMAGE', 'UNSUPPORTED_FORMAT']).toContain(outcome.code);
    expect(manifest.error.message.length).toBeGreaterThan(10);
    expect(logs.some((l) => l.level === 'error' && l.msg === 'permanent failure recorded' && l.key === 'uploads/broken.jpg' && l.code === outcome.code)).toBe(true);
    // No variant of it exists, and a replay is skipped rather than retried.
    expect(await server.storage('photos-out').head('resized/thumb/uploads/broken.jpg')).toBeUndefined();
    const info = (await server.storage('photos').head('uploads/broken.jpg'))!;
    const again = await upload.handler(ossEvent('photos', 'uploads/broken.jpg', info.etag, info.size), context);
    expect(again.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'already-processed' });
  });

  it("takes an iPhone's HEIC upload: without the plug-in a permanent failure saying how to enable it, with it six variants", async () => {
    const key = 'uploads/IMG_0001.HEIC';
    await client('photos').put(key, await readFile(join(FIXTURES, 'images/heic-alpha.heic')));
    await server.idle();
    const first = server.invocations.filter((i) => i.key === key);
    expect(first).toHaveLength(1);
    expect((first[0].result as HandlerResult).outcomes[0]).toMatchObject({
      status: 'failed',
      code: 'UNSUPPORTED_FORMAT',
      message: "Expected a format imgpipe decodes but received a HEIC file, which needs the opt-in HEIC plug-in: import 'imgpipe/heic' once (or pass it to init({ plugins }))",
    });
    await import('../../../entries/heic/node.js');
    // The same key uploaded again (other bytes, a new ETag) once the function has the plug-in.
    await client('photos').put(key, await readFile(join(FIXTURES, 'images/heic-10bit-alpha.heic')));
    await server.idle();
    const second = server.invocations.filter((i) => i.key === key);
    expect(second).toHaveLength(2);
    expect((second[1].result as HandlerResult).outcomes[0]).toMatchObject({ status: 'processed' });
    for (const k of outputKeys('uploads/IMG_0001')) expect(await server.storage('photos-out').head(k), k).toBeDefined();
  });

  it('still writes every output when the first two PUTs fail with 503', async () => {
    const k = 'uploads/retry.jpg';
    const etag = await seed(k, small);
    server.setFaults({ failPuts: 2, status: 503 });
    const faultsBefore = server.stats['fault:put'] ?? 0;
    const r = await upload.handler(ossEvent('photos', k, etag, small.length), context);
    server.setFaults({});
    expect(r.outcomes[0]).toMatchObject({ status: 'processed', variants: 6 });
    expect((server.stats['fault:put'] ?? 0) - faultsBefore).toBe(2);
    for (const out of outputKeys('uploads/retry')) expect(await server.storage('photos-out').head(out), out).toBeDefined();
  });

  it('throws on storage failures so FC retries, and the retry completes the set', async () => {
    const k = 'uploads/outage.jpg';
    const etag = await seed(k, small);
    // More failures than the storage retries absorb: the invocation must reject...
    server.setFaults({ failPuts: 20, status: 500 });
    const e = await upload.handler(ossEvent('photos', k, etag, small.length), context).catch((err: unknown) => err);
    server.setFaults({});
    expect(isImgpipeError(e, 'STORAGE_ERROR')).toBe(true);
    expect((e as Error).message).toMatch(/^OSS PutObject of ".+" in bucket "photos-out" failed: InternalError \(HTTP 500\)/);
    expect(await server.storage('photos-out').head('meta/uploads/outage.json')).toBeUndefined();
    // ...and FC's retry, with the same event, finishes the job.
    const r = await upload.handler(ossEvent('photos', k, etag, small.length), context);
    expect(r.outcomes[0].status).toBe('processed');
  });

  it('does not re-process its own outputs (by key prefix, and by the metadata marker)', async () => {
    const sameBucket = createUploadHandler({ sourcePrefix: 'uploads/', env: { IMGPIPE_OSS_ENDPOINT: server.endpoint }, log: () => {} });
    const variant = (await server.storage('photos-out').head(`resized/thumb/${name}.jpg`))!;
    const byPrefix = await sameBucket.handler(ossEvent('photos-out', `resized/thumb/${name}.jpg`, variant.etag, variant.size), context);
    expect(byPrefix.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'own-output' });

    // A variant copied back under the source prefix still carries the marker: the trigger fires, the handler declines.
    const copy = await client('photos-out').get(`resized/thumb/${name}.jpg`);
    const meta = Object.fromEntries(Object.entries(copy.res.headers as Record<string, string>).filter(([h]) => h.startsWith('x-oss-meta-')).map(([h, v]) => [h.slice(11), v]));
    await client('photos').put('uploads/copied-variant.jpg', copy.content, { mime: 'image/jpeg', meta: meta as unknown as OSS.UserMeta });
    await server.idle();
    const mine = server.invocations.filter((i) => i.key === 'uploads/copied-variant.jpg');
    expect(mine).toHaveLength(1);
    expect((mine[0].result as HandlerResult).outcomes[0]).toMatchObject({ status: 'skipped', reason: 'own-output' });
    expect(await server.storage('photos-out').head('meta/uploads/copied-variant.json')).toBeUndefined();
  });

  it('reads the S3 (URL-encoded) and CloudEvent shapes for the same hard key', async () => {
    const k = 'uploads/s3 shape+ü%.jpg';
    const etag = await seed(k, small);
    const s3 = { Records: [{ eventName: 'ObjectCreated:Put', eventSource: 'aws:s3', awsRegion: 'cn-hangzhou', s3: { bucket: { name: 'photos' }, object: { key: encodeUrlKey(k), size: small.length, eTag: etag.toLowerCase() } } }] };
    const r = await upload.handler(Buffer.from(JSON.stringify(s3)), context);
    expect(r.outcomes[0]).toMatchObject({ status: 'processed', key: k, manifestKey: 'meta/uploads/s3 shape+ü%.json' });
    const ce = { id: 'ce-1', source: 'acs.oss', specversion: '1.0', type: 'oss:ObjectCreated:PutObject', data: JSON.parse(ossEvent('photos', k, etag, small.length).toString()).events[0] };
    const again = await upload.handler(ce, context);
    expect(again.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'already-processed', key: k });
  });

  it('falls back to the URL-decoded key when an OSS event carries an encoded one', async () => {
    const k = 'uploads/encoded name é.jpg';
    const etag = await seed(k, small);
    const r = await upload.handler(ossEvent('photos', encodeURIComponent(k).replace(/%2F/g, '/'), etag, small.length), context);
    expect(r.outcomes[0]).toMatchObject({ status: 'processed', manifestKey: 'meta/uploads/encoded name é.json' });
  });

  it('filters events the pattern or the source prefix exclude', async () => {
    const r1 = await upload.handler(ossEvent('photos', 'uploads/readme.txt', 'AA', 10), context);
    expect(r1.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'filtered' });
    const r2 = await upload.handler(ossEvent('photos', 'elsewhere/a.jpg', 'AA', 10), context);
    expect(r2.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'outside-source-prefix' });
  });

  it('resolves a malformed event as a permanent INVALID_EVENT failure, with a clear log', async () => {
    const r = await upload.handler(Buffer.from('{"events":[{"eventName":"ObjectCreated:PutObject"}]}'), context);
    expect(r.outcomes).toEqual([{ status: 'failed', code: 'INVALID_EVENT' }]);
    const rec = logs.filter((l) => l.msg === 'invalid event').pop();
    expect(rec).toMatchObject({ level: 'error', code: 'INVALID_EVENT', requestId: 'req-test', error: 'Expected an object at event.events[0].oss but received nothing' });
  });

  it('refuses an oversized upload from its HEAD, without downloading it', async () => {
    const k = 'uploads/too-big.jpg';
    const etag = await seed(k, small);
    const strict = createUploadHandler({ sourceBucket: 'photos', targetBucket: 'photos-out', sourcePrefix: 'uploads/', limits: { maxBytes: 1000 }, env: { IMGPIPE_OSS_ENDPOINT: server.endpoint }, log: () => {} });
    const gets = server.stats.GetObject ?? 0;
    const r = await strict.handler(ossEvent('photos', k, etag, small.length), context);
    expect(r.outcomes[0]).toMatchObject({ status: 'failed', code: 'IMAGE_TOO_LARGE', manifestKey: 'meta/uploads/too-big.json' });
    expect(server.stats.GetObject ?? 0).toBe(gets);
    const manifest = JSON.parse(new TextDecoder().decode((await server.storage('photos-out').get('meta/uploads/too-big.json')).bytes));
    expect(manifest.error).toEqual({ code: 'IMAGE_TOO_LARGE', message: `Expected at most 1000 bytes of input (limits.maxBytes) but received ${small.length} bytes` });
  });

  describe('HTTP trigger with CloudEvents (EventBridge HTTP target)', () => {
    const k = 'uploads/over http é+.jpg';
    let etag: string;
    const trigger = (headers: Record<string, unknown>, body: string, base64: boolean) =>
      Buffer.from(JSON.stringify({
        version: 'v1', rawPath: '/', headers, queryParameters: {}, isBase64Encoded: base64,
        body: base64 ? Buffer.from(body).toString('base64') : body,
        requestContext: { http: { method: 'POST', path: '/' }, requestId: 'r' },
      }));
    const cloudEvent = () => new CloudEvent({
      id: `ce-http-${etag}`, source: 'acs.oss', specversion: '1.0', type: 'oss:ObjectCreated:PutObject', datacontenttype: 'application/json',
      subject: `acs:oss:cn-hangzhou:1:photos/${k}`, data: JSON.parse(ossEvent('photos', k, etag, small.length).toString()).events[0],
    });

    it('binary mode (Base64 body) is processed: 200 with the outcomes', async () => {
      etag = await seed(k, small);
      const msg = HTTP.binary(cloudEvent());
      const res = await upload.httpHandler(trigger(msg.headers, String(msg.body), true), context);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body).outcomes[0]).toMatchObject({ status: 'processed', key: k, variants: 6 });
    });

    it('structured mode replay is skipped', async () => {
      const msg = HTTP.structured(cloudEvent());
      const res = await upload.httpHandler(trigger(msg.headers, String(msg.body), false), context);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body).outcomes[0]).toMatchObject({ status: 'skipped', reason: 'already-processed' });
    });

    it('a request that is not a CloudEvent gets 400, a storage outage 503', async () => {
      const bad = await upload.httpHandler(trigger({ 'content-type': 'text/plain' }, 'hello', false), context);
      expect(bad.statusCode).toBe(400);
      expect(JSON.parse(bad.body)).toEqual({ code: 'INVALID_EVENT', message: 'Expected a CloudEvent over HTTP (ce-* headers, or content-type application/cloudevents+json) but received content-type "text/plain"' });
      const notHttp = await upload.httpHandler(Buffer.from('[1]'), context);
      expect(JSON.parse(notHttp.body)).toEqual({ code: 'INVALID_EVENT', message: 'Expected an HTTP trigger event with a headers object but received [1]' });

      etag = await seed('uploads/outage-http.jpg', small);
      const ce = new CloudEvent({ ...cloudEvent().toJSON(), id: 'x', data: JSON.parse(ossEvent('photos', 'uploads/outage-http.jpg', etag, small.length).toString()).events[0] });
      server.setFaults({ failGets: 20, status: 503 });
      const msg = HTTP.structured(ce);
      const down = await upload.httpHandler(trigger(msg.headers, String(msg.body), false), context);
      server.setFaults({});
      expect(down.statusCode).toBe(503);
      expect(JSON.parse(down.body)).toMatchObject({ code: 'STORAGE_ERROR' });
    });
  });

  it('never writes credentials into its logs', () => {
    expect(logs.length).toBeGreaterThan(5);
    expect(JSON.stringify(logs)).not.toContain(credential.accessKeySecret);
    expect(logs.every((l) => typeof l.msg === 'string' && typeof l.level === 'string')).toBe(true);
  });
});

describe('createUploadHandler configuration', () => {
  it('refuses at start-up a same-bucket configuration that would re-trigger itself', () => {
    const attempt = (opts: Parameters<typeof createUploadHandler>[0]) => {
      try {
        createUploadHandler({ env: {}, ...opts });
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const whole = attempt({});
    expect(isImgpipeError(whole, 'INVALID_ARGUMENT')).toBe(true);
    expect((whole as Error).message).toBe(
      'Refusing a configuration that would re-trigger itself: output key template "resized/{size}/{name}.jpg" writes under "resized/", which overlaps the source prefix "" in the same bucket. Set sourcePrefix to the trigger\'s filter prefix (e.g. "uploads/") outside every output prefix, or set targetBucket to another bucket',
    );
    expect((attempt({ sourcePrefix: 'webp/' }) as Error).message).toContain('"webp/{size}/{name}.webp" writes under "webp/"');
    expect((attempt({ sourcePrefix: 'uploads/', manifestKey: 'uploads/meta/{name}.json' }) as Error).message).toContain('writes under "uploads/meta/"');
    expect((attempt({ sourceBucket: 'a', targetBucket: 'a', sourcePrefix: '' }) as Error).message).toContain('overlaps the source prefix ""');
    expect(attempt({ sourcePrefix: 'uploads/' })).toBeUndefined();
    expect(attempt({ sourceBucket: 'a', targetBucket: 'b' })).toBeUndefined();
  });

  it('refuses a bad pattern, recipe or concurrency when it is created', () => {
    expect(() => createUploadHandler({ targetBucket: 'b', pattern: { data: 'x' } as never })).toThrow('at pattern.data but received "x"');
    expect(() => createUploadHandler({ targetBucket: 'b', concurrency: 0 })).toThrow('Expected an integer between 1 and 32 for concurrency but received 0');
    expect(() => createUploadHandler({ targetBucket: 'b', recipe: { sizes: [], outputs: [] } })).toThrow('recipe.sizes');
  });

  it('fails an invocation without credentials as ACCESS_DENIED naming where it looked', async () => {
    const h = createUploadHandler({ targetBucket: 'photos-out', env: {}, log: () => {} });
    const e = await h.handler(ossEvent('photos', 'uploads/x.jpg', 'AA', 10), {}).catch((err: unknown) => err);
    expect(isImgpipeError(e, 'ACCESS_DENIED')).toBe(true);
    expect((e as Error).message).toContain('context.credentials');
  });
});
