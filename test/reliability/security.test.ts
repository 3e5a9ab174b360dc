/**
 * Hostile keys and credentials, end to end: the OSS storage port (real ali-oss against the local
 * OSS-compatible server) refuses traversal, control characters and over-long keys before any request
 * with a typed INVALID_ARGUMENT, the server refuses them too when sent past the port, the upload
 * handler treats an event carrying one as a permanent failure, and the handler's logs never contain a
 * credential, whether the run succeeds, fails on a bad image or is refused by the server. (The filesystem port's own `checkObjectKey` messages are covered in
 * test/adapters/oss/storage.test.ts.)
 */
import OSS from 'ali-oss';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUploadHandler } from '../../adapters/fc/handler.js';
import { createFetchHandler } from '../../adapters/http/handler.js';
import { storageSource } from '../../adapters/http/source.js';
import type { LogRecord } from '../../adapters/fc/log.js';
import { startLocalOss, type LocalOss } from '../../adapters/local-oss/server.js';
import { createOssStorage } from '../../adapters/oss/storage.js';
import { isImgpipeError } from '../../src/errors.js';
import { IMAGES } from '../helpers/fixtures.js';

const credential = { accessKeyId: 'LTAIsecuritytest01', accessKeySecret: 'sec-7f3a9c-never-in-logs' };
const wrong = { accessKeyId: 'LTAIsecuritytest01', accessKeySecret: 'wrong-5b1d2e-never-in-logs' };

let outer: string;
let root: string;
let server: LocalOss;

beforeAll(async () => {
  outer = await mkdtemp(join(tmpdir(), 'imgpipe-security-'));
  root = join(outer, 'store');
  server = await startLocalOss({ root, buckets: ['photos', 'photos-out'], credentials: [credential] });
});

afterAll(async () => {
  await server?.close();
  await rm(outer, { recursive: true, force: true });
});

/** An OSS trigger payload for one created object in `photos`. */
const uploadEvent = (key: string) => ({ events: [{
  eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', eventTime: new Date().toISOString(), eventVersion: '1.0', region: 'cn-hangzhou',
  oss: { bucket: { arn: 'acs:oss:cn-hangzhou:1:photos', name: 'photos' }, object: { key, eTag: 'e', size: 1, deltaSize: 1, objectMeta: { mimeType: 'image/jpeg' } }, ossSchemaVersion: '1.0' },
  responseElements: { requestId: `R-${key}` },
}] });

/** Every file under `dir`, relative paths. */
async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

describe('object keys through the OSS storage port', () => {
  const storage = (onRetry?: () => void) => createOssStorage({ bucket: 'photos', credentials: credential, endpoint: server.endpoint, retry: { baseDelayMs: 5, onRetry } });
  const HOSTILE = [
    '../../etc/passwd', 'uploads/../../../outside.jpg', 'uploads\\..\\..\\outside.jpg', '/absolute.jpg',
    'uploads/a\0.jpg', 'uploads/evil\r\nx-oss-meta-injected: 1.jpg', 'uploads/bell\u0007.jpg', 'uploads/del\u007f.jpg',
    'uploads/esc\u001b[2J.jpg', 'ü'.repeat(600), 'x/'.repeat(100_000),
  ];
  const requests = () => Object.entries(server.stats).reduce((n, [, v]) => n + v, 0);

  it('refuses traversal, control characters and absurd length before any request, as INVALID_ARGUMENT naming the key', async () => {
    let retries = 0;
    const s = storage(() => retries++);
    const outerBefore = (await readdir(outer)).sort();
    const before = requests();
    for (const key of HOSTILE) {
      for (const [op, call] of [['get', () => s.get(key)], ['put', () => s.put(key, new Uint8Array([1, 2, 3]))], ['head', () => s.head(key)]] as const) {
        const e = await call().then(() => undefined, (err: unknown) => err);
        const what = `${op} ${JSON.stringify(key.slice(0, 40))}`;
        expect(isImgpipeError(e, 'INVALID_ARGUMENT'), `${what}: ${String(e)}`).toBe(true);
        expect((e as Error).message, what).toMatch(/^Expected an object key of 1-1023 bytes without control characters or path traversal for key but received "/);
        expect((e as Error).message, what).toContain(JSON.stringify(key.length > 80 ? `${key.slice(0, 77)}...` : key));
      }
    }
    // Permanent and local: no request reached the server, nothing was retried, nothing escaped.
    expect(requests()).toBe(before);
    expect(retries).toBe(0);
    expect((await readdir(outer)).sort()).toEqual(outerBefore);
    for (const f of await files(root)) expect(f.startsWith(root)).toBe(true);
  });

  it('the local server refuses the same keys sent past the port (raw ali-oss), and nothing escapes the bucket', async () => {
    const oss = new OSS({ ...credential, bucket: 'photos', endpoint: server.endpoint, region: 'oss-cn-hangzhou' });
    const outerBefore = (await readdir(outer)).sort();
    for (const key of ['uploads/evil\r\nx.jpg', 'uploads/del\u007f.jpg', 'uploads/../../outside.jpg']) {
      const e = await oss.put(key, Buffer.from([1])).then(() => undefined, (err: unknown) => err);
      // Either the server says InvalidObjectName, or the request could not even be formed or signed.
      expect(e, key).toBeDefined();
    }
    expect((await readdir(outer)).sort()).toEqual(outerBefore);
    expect((await storage().list({ prefix: 'uploads/' })).objects.map((o) => o.key).filter((k) => /[\u0000-\u001f\u007f]|outside/.test(k))).toEqual([]);
  });
});

describe('upload events with a hostile key', () => {
  it('are a permanent failure (resolved, not thrown for FC to retry), with nothing written', async () => {
    const records: LogRecord[] = [];
    const upload = createUploadHandler({
      sourceBucket: 'photos', targetBucket: 'photos-out', sourcePrefix: 'uploads/', retry: { baseDelayMs: 1 },
      env: { IMGPIPE_OSS_ENDPOINT: server.endpoint }, log: (r) => records.push(r),
    });
    const before = Object.entries(server.stats).reduce((n, [, v]) => n + v, 0);
    for (const key of ['uploads/a\r\nb.jpg', 'uploads/../../x.jpg', `uploads/${'k'.repeat(1100)}.jpg`]) {
      const r = await upload.handler(Buffer.from(JSON.stringify(uploadEvent(key))), { requestId: 'req-key', region: 'cn-hangzhou', credentials: credential });
      expect(r.outcomes, key).toMatchObject([{ bucket: 'photos', key, status: 'failed', code: 'INVALID_ARGUMENT' }]);
    }
    expect(Object.entries(server.stats).reduce((n, [, v]) => n + v, 0)).toBe(before);
    const logged = records.filter((r) => r.msg === 'invalid object key');
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatchObject({ level: 'error', code: 'INVALID_ARGUMENT', key: 'uploads/a\r\nb.jpg' });
    expect(String(logged[0].error)).toContain('received "uploads/a\\r\\nb.jpg": it contains the control character U+000D at index 9');
    // A valid raw key whose URL-decoded reading is not: only the raw reading is looked up.
    const encoded = await upload.handler(Buffer.from(JSON.stringify(uploadEvent('uploads/%0d%0a.jpg'))), { requestId: 'req-key', region: 'cn-hangzhou', credentials: credential });
    expect(encoded.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'source-missing' });
  });
});

describe('credentials never reach the logs', () => {
  it('success, a corrupt upload and a refused signature all log without the secret', async () => {
    const records: LogRecord[] = [];
    const s = createOssStorage({ bucket: 'photos', credentials: credential, endpoint: server.endpoint });
    await s.put('uploads/ok.jpg', new Uint8Array(await readFile(`${IMAGES}320x240.jpg`)));
    await s.put('uploads/bad.jpg', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2]));
    const event = uploadEvent;
    const handler = (creds: typeof credential) => createUploadHandler({
      sourceBucket: 'photos', targetBucket: 'photos-out', sourcePrefix: 'uploads/', retry: { baseDelayMs: 1, retries: 1 },
      // Credentials in the environment as well as in the context: neither may be logged.
      env: { IMGPIPE_OSS_ENDPOINT: server.endpoint, ALIBABA_CLOUD_ACCESS_KEY_ID: creds.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: creds.accessKeySecret },
      log: (r) => records.push(r),
    });
    const ctx = (creds: typeof credential) => ({ requestId: 'req-sec', region: 'cn-hangzhou', credentials: { ...creds, securityToken: 'sts-token-3c9e-never-in-logs' } });

    const good = handler(credential);
    await good.initialize(ctx(credential));
    const ok = await good.handler(Buffer.from(JSON.stringify(event('uploads/ok.jpg'))), ctx(credential));
    expect(ok.outcomes[0].status).toBe('processed');
    const bad = await good.handler(Buffer.from(JSON.stringify(event('uploads/bad.jpg'))), ctx(credential));
    expect(bad.outcomes[0].status).toBe('failed');
    // A wrong secret: the server refuses the signature and the handler reports it for a retry.
    const refused = await handler(wrong).handler(Buffer.from(JSON.stringify(event('uploads/ok.jpg'))), ctx(wrong)).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeDefined();

    const text = records.map((r) => JSON.stringify(r)).join('\n');
    expect(records.some((r) => r.level === 'error')).toBe(true);
    for (const secret of [credential.accessKeySecret, wrong.accessKeySecret, 'sts-token-3c9e-never-in-logs']) expect(text).not.toContain(secret);
    // Nor in what the handler threw for the platform to log.
    expect(String(refused) + JSON.stringify(refused)).not.toContain(wrong.accessKeySecret);
  });
});

describe('the x-oss-process HTTP handler reads only allowed buckets, keys and origins', () => {
  it('refuses buckets off the allow-list (including Object prototype names) and hostile keys without reading any source', async () => {
    let reads = 0;
    const oss = createOssStorage({ bucket: 'photos', credentials: credential, endpoint: server.endpoint, retry: { retries: 0 } });
    const counted = storageSource({ ...oss, get: (key) => { reads++; return oss.get(key); }, head: (key) => { reads++; return oss.head(key); } });
    await oss.put('web/320x240.jpg', new Uint8Array(await readFile(`${IMAGES}320x240.jpg`)));
    const handle = createFetchHandler({ buckets: { photos: counted }, bucketFrom: 'path', allowedOrigins: ['https://app.example'] });
    const get = (path: string, headers: Record<string, string> = {}) => handle(new Request(`http://img.local${path}`, { headers }));

    const ok = await get('/photos/web/320x240.jpg?x-oss-process=image/resize,w_10', { origin: 'https://app.example' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    await ok.arrayBuffer();
    const readsAfterOk = reads;
    expect(readsAfterOk).toBeGreaterThan(0);

    for (const bucket of ['secrets', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'photos-out']) {
      const no = await get(`/${bucket}/web/320x240.jpg?x-oss-process=image/resize,w_10`);
      expect(no.status, bucket).toBe(403);
      expect(await no.text()).toContain(`<Message>Expected a bucket on the allow-list but received &quot;${bucket}&quot;</Message>`);
    }
    expect(reads).toBe(readsAfterOk);
    // Traversal and control characters in the key, percent-encoded past URL normalisation: refused as
    // a client error, and no request reaches OSS (the storage port checks the key first).
    const requestsBefore = Object.values(server.stats).reduce((n, v) => n + v, 0);
    for (const path of ['/photos/%2e%2e/%2e%2e/etc/passwd', '/photos/web%2F..%2F..%2Fx.jpg', '/photos/web/a%0d%0ab.jpg']) {
      const no = await get(`${path}?x-oss-process=image/resize,w_10`);
      expect(no.status, path).toBeGreaterThanOrEqual(400);
      expect(no.status, path).toBeLessThan(500);
      await no.arrayBuffer();
    }
    expect(Object.values(server.stats).reduce((n, v) => n + v, 0)).toBe(requestsBefore);

    // Another origin gets the image (CORS is not access control) but no CORS grant for its page.
    const other = await get('/photos/web/320x240.jpg?x-oss-process=image/resize,w_10', { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    await other.arrayBuffer();
  });
});
