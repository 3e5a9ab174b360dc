/**
 * Hostile keys and credentials, end to end: through the OSS storage port (real ali-oss against the
 * local OSS-compatible server) traversal, NUL and over-long keys never write outside the bucket and
 * fail only with typed errors, keys with control characters stay exactly one object, and the upload
 * handler's logs never contain a credential, whether the run succeeds, fails on a bad image or is
 * refused by the server. (The filesystem port's own `checkObjectKey` messages are covered in
 * test/adapters/storage.test.ts.)
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUploadHandler } from '../../adapters/fc/handler.js';
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

/** Every file under `dir`, relative paths. */
async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

describe('object keys through the OSS storage port', () => {
  const storage = () => createOssStorage({ bucket: 'photos', credentials: credential, endpoint: server.endpoint, retry: { baseDelayMs: 5 } });

  it('hostile keys never write outside the bucket and fail only with typed errors', async () => {
    // What the port guarantees today: each call either fails with an ImgpipeError (the local server
    // refuses the key, or the signature over a normalised path does not match) or stays inside the
    // bucket. The store lives one level below `outer`, so anything escaping it would show up there.
    const s = storage();
    const outerBefore = (await readdir(outer)).sort();
    for (const key of [
      '../../etc/passwd', 'uploads/../../../outside.jpg', 'uploads\\..\\..\\outside.jpg', '/absolute.jpg',
      'uploads/a\0.jpg', 'ü'.repeat(600), 'x/'.repeat(100_000),
    ]) {
      for (const call of [() => s.get(key), () => s.put(key, new Uint8Array([1, 2, 3])), () => s.head(key)]) {
        const e = await call().then(() => undefined, (err: unknown) => err);
        if (e !== undefined) expect(isImgpipeError(e), `${JSON.stringify(key.slice(0, 40))}: ${String(e)}`).toBe(true);
      }
    }
    expect((await readdir(outer)).sort()).toEqual(outerBefore);
    for (const f of await files(root)) expect(f.startsWith(root)).toBe(true);
    expect((await s.list({ prefix: '' })).objects.map((o) => o.key).filter((k) => k.includes('..') || k.includes('passwd') || k.includes('outside'))).toEqual([]);
  });

  it('keeps a key with control characters as exactly that one object', async () => {
    const s = storage();
    const key = 'uploads/evil\r\nx-oss-meta-injected: 1\u001b[2J.jpg';
    await s.put(key, new Uint8Array([7, 8, 9]));
    expect([...(await s.get(key)).bytes]).toEqual([7, 8, 9]);
    const listed = await s.list({ prefix: 'uploads/evil' });
    expect(listed.objects.map((o) => o.key)).toEqual([key]);
    expect((await s.head(key))?.meta ?? {}).not.toHaveProperty('injected');
  });
});

describe('credentials never reach the logs', () => {
  it('success, a corrupt upload and a refused signature all log without the secret', async () => {
    const records: LogRecord[] = [];
    const s = createOssStorage({ bucket: 'photos', credentials: credential, endpoint: server.endpoint });
    await s.put('uploads/ok.jpg', new Uint8Array(await readFile(`${IMAGES}320x240.jpg`)));
    await s.put('uploads/bad.jpg', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2]));
    const event = (key: string) => ({ events: [{
      eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', eventTime: new Date().toISOString(), eventVersion: '1.0', region: 'cn-hangzhou',
      oss: { bucket: { arn: 'acs:oss:cn-hangzhou:1:photos', name: 'photos' }, object: { key, eTag: 'e', size: 1, deltaSize: 1, objectMeta: { mimeType: 'image/jpeg' } }, ossSchemaVersion: '1.0' },
      responseElements: { requestId: `R-${key}` },
    }] });
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
