import OSS from 'ali-oss';
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';
import { createOssStorage } from '../../../adapters/oss/storage.js';
import { storageSource } from '../../../adapters/http/source.js';
import { md5Etag } from '../../../adapters/storage.js';
import { isImgpipeError } from '../../../src/errors.js';
import { parseUploadEvents, type UploadEvent } from '../../../adapters/events/upload-event.js';

const credential = { accessKeyId: 'LTAItestkey0001', accessKeySecret: 'test-secret-0001' };
let root: string;
let server: LocalOss;

function client(opts: Partial<OSS.Options> & { sldEnable?: boolean } = {}): OSS {
  return new OSS({ ...credential, bucket: 'photos', endpoint: server.endpoint, region: 'oss-cn-hangzhou', ...opts });
}

/** A raw HTTP request, so paths reach the server exactly as written (fetch and URL would normalise '..'). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** V1 header signature computed independently of ali-oss, for hand-made requests. */
function signV1(method: string, resource: string, date: string, secret = credential.accessKeySecret): string {
  const sig = createHmac('sha1', secret).update(`${method}\n\n\n${date}\n${resource}`).digest('base64');
  return `OSS ${credential.accessKeyId}:${sig}`;
}

async function expectOssError(p: Promise<unknown>, code: string, status: number): Promise<void> {
  const e = (await p.then(() => undefined, (err: unknown) => err)) as { code?: string; status?: number } | undefined;
  expect(e, `expected ${code}`).toBeDefined();
  expect(e!.code).toBe(code);
  expect(e!.status).toBe(status);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-oss-'));
  server = await startLocalOss({ root, buckets: ['photos', 'other'], credentials: [credential] });
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('local OSS server with the real ali-oss client', () => {
  it('puts, heads, gets and deletes with metadata and an upper-case MD5 ETag', async () => {
    const oss = client();
    const body = Buffer.from('hello imgpipe');
    const put = await oss.put('docs/hello.txt', body, { mime: 'text/plain', meta: { owner: 'ada', n: 1 } as unknown as OSS.UserMeta, headers: { 'Cache-Control': 'max-age=60' } });
    expect((put.res.headers as Record<string, string>).etag).toBe(`"${createHash('md5').update(body).digest('hex').toUpperCase()}"`);
    const head = await oss.head('docs/hello.txt');
    expect(head.status).toBe(200);
    expect(head.meta).toEqual({ owner: 'ada', n: '1' });
    expect((head.res.headers as Record<string, string>)['content-type']).toBe('text/plain');
    expect((head.res.headers as Record<string, string>)['cache-control']).toBe('max-age=60');
    const got = await oss.get('docs/hello.txt');
    expect(Buffer.from(got.content).toString()).toBe('hello imgpipe');
    await oss.delete('docs/hello.txt');
    await expectOssError(oss.get('docs/hello.txt'), 'NoSuchKey', 404);
    await expectOssError(oss.head('docs/hello.txt'), 'NoSuchKey', 404);
  });

  it('serves byte ranges', async () => {
    const oss = client();
    await oss.put('range.bin', Buffer.from('0123456789'));
    const part = await oss.get('range.bin', { headers: { Range: 'bytes=2-5' } });
    expect(part.res.status).toBe(206);
    expect(Buffer.from(part.content).toString()).toBe('2345');
    const tail = await oss.get('range.bin', { headers: { Range: 'bytes=-3' } });
    expect(Buffer.from(tail.content).toString()).toBe('789');
    expect((tail.res.headers as Record<string, string>)['content-range']).toBe('bytes 7-9/10');
    await expectOssError(oss.get('range.bin', { headers: { Range: 'bytes=20-30' } }), 'InvalidRange', 416);
  });

  it.each(['a b.jpg', 'a+b.jpg', '100%.jpg', '照片/ü é.png', 'x/%2e%2e/y.png', 'q?x=1#frag.jpg', 'folder//double.jpg'])('round-trips the key %j', async (key) => {
    const oss = client();
    await oss.put(`keys/${key}`, Buffer.from(key));
    expect(Buffer.from((await oss.get(`keys/${key}`)).content).toString()).toBe(key);
    const listed = await oss.listV2({ prefix: `keys/${key}` } as OSS.ListV2ObjectsQuery, {});
    expect(listed.objects.map((o) => o.name)).toEqual([`keys/${key}`]);
  });

  it('lists with V1 and V2, prefixes, delimiters and paging', async () => {
    const oss = client({ bucket: 'other' });
    for (const k of ['l/a.jpg', 'l/b.jpg', 'l/sub/c.jpg', 'l/sub/d.jpg', 'l/z.jpg']) await oss.put(k, Buffer.from(k));
    const v1 = await oss.list({ prefix: 'l/', delimiter: '/', 'max-keys': 10 }, {});
    expect(v1.objects.map((o) => o.name)).toEqual(['l/a.jpg', 'l/b.jpg', 'l/z.jpg']);
    expect(v1.prefixes).toEqual(['l/sub/']);
    const page1 = await oss.listV2({ prefix: 'l/', 'max-keys': 2 } as OSS.ListV2ObjectsQuery, {});
    expect(page1.objects.map((o) => o.name)).toEqual(['l/a.jpg', 'l/b.jpg']);
    expect(page1.isTruncated).toBe(true);
    const page2 = await oss.listV2({ prefix: 'l/', 'max-keys': 10, 'continuation-token': page1.nextContinuationToken } as OSS.ListV2ObjectsQuery, {});
    expect(page2.objects.map((o) => o.name)).toEqual(['l/sub/c.jpg', 'l/sub/d.jpg', 'l/z.jpg']);
    expect(page2.isTruncated).toBe(false);
    const m = await oss.list({ prefix: 'l/', marker: 'l/sub/d.jpg', 'max-keys': 10 }, {});
    expect(m.objects.map((o) => o.name)).toEqual(['l/z.jpg']);
  });

  it('lists thousands of keys in UTF-8 order, each ListObjectsV2 page reading its own folders, not the bucket', async () => {
    const store = server.storage('other');
    const keys: string[] = [];
    for (let f = 0; f < 60; f++) for (let i = 0; i < 50; i++) keys.push(`big/f${String(f).padStart(2, '0')}/${i}.jpg`);
    // Keys whose UTF-16 and UTF-8 orders differ, a '-' and '.' beside a folder, an empty segment, '%'.
    keys.push('big/a-b', 'big/a.b', 'big/a/b', 'big/\uffff.jpg', 'big/😀.jpg', 'big/é.jpg', 'big//empty-segment.jpg', 'big/100%.jpg');
    for (const k of keys) await store.put(k, new TextEncoder().encode(k));
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const oss = client({ bucket: 'other' });
    const listed: string[] = [];
    const perPage: number[] = [];
    let token: string | undefined;
    for (;;) {
      const before = store.listStats.entries;
      const page = await oss.listV2({ prefix: 'big/', 'max-keys': 100, ...(token ? { 'continuation-token': token } : {}) } as OSS.ListV2ObjectsQuery, {});
      perPage.push(store.listStats.entries - before);
      listed.push(...page.objects.map((o) => o.name));
      if (!page.isTruncated) break;
      token = page.nextContinuationToken;
    }
    expect(listed).toEqual(expected);
    expect(perPage).toHaveLength(Math.ceil(keys.length / 100));
    // A page of 100 reads the root, big/ (61 folders and 8 objects, in both trees) and the two or three
    // 50-key folders it spans: a few hundred entries. Walking the bucket would be 2 x 3,008 per page.
    expect(Math.max(...perPage)).toBeLessThan(600);
    // Start-after inside a folder, and a delimiter listing that rolls each folder up.
    const after = await oss.listV2({ prefix: 'big/', 'start-after': 'big/f30/7.jpg', 'max-keys': 3 } as OSS.ListV2ObjectsQuery, {});
    expect(after.objects.map((o) => o.name)).toEqual(expected.slice(expected.indexOf('big/f30/7.jpg') + 1).slice(0, 3));
    const folders = await oss.listV2({ prefix: 'big/', delimiter: '/', 'max-keys': 1000 } as OSS.ListV2ObjectsQuery, {});
    expect(folders.prefixes).toEqual(['big//', 'big/a/', ...Array.from({ length: 60 }, (_, f) => `big/f${String(f).padStart(2, '0')}/`)]);
    expect(folders.objects.map((o) => o.name)).toEqual(expected.filter((k) => !k.slice(4).includes('/')));
  }, 120_000);

  it('accepts V4 signatures and path-style requests', async () => {
    const v4 = client({ authorizationV4: true } as Partial<OSS.Options>);
    await v4.put('v4/obj.txt', Buffer.from('v4'));
    expect(Buffer.from((await v4.get('v4/obj.txt')).content).toString()).toBe('v4');
    const wrong = client({ authorizationV4: true, accessKeySecret: 'nope' } as Partial<OSS.Options>);
    await expectOssError(wrong.get('v4/obj.txt'), 'SignatureDoesNotMatch', 403);

    const date = new Date().toUTCString();
    const res = await raw('GET', '/photos/v4/obj.txt', { date, authorization: signV1('GET', '/photos/v4/obj.txt', date), host: `127.0.0.1:${server.port}` });
    expect(res.status).toBe(200);
    expect(res.body).toBe('v4');
  });

  it('accepts signed URLs and refuses expired or tampered ones', async () => {
    const oss = client();
    await oss.put('signed.txt', Buffer.from('signed'));
    // ali-oss only signs URLs for a host name: sign for the public endpoint, send it here with that Host.
    const signer = new OSS({ ...credential, bucket: 'photos', region: 'oss-cn-hangzhou' });
    const url = new URL(signer.signatureUrl('signed.txt', { expires: 60 }));
    const host = { host: url.host };
    expect((await raw('GET', url.pathname + url.search, host)).body).toBe('signed');
    const tampered = await raw('GET', url.pathname + url.search.replace(/Signature=[^&]+/, 'Signature=AAAA'), host);
    expect(tampered.status).toBe(403);
    expect(tampered.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    const expired = new URL(signer.signatureUrl('signed.txt', { expires: -10 }));
    expect((await raw('GET', expired.pathname + expired.search, host)).body).toContain('<Message>Request has expired.</Message>');
  });

  it('refuses a wrong secret with SignatureDoesNotMatch, for GET, PUT and HEAD', async () => {
    const bad = client({ accessKeySecret: 'wrong-secret' });
    await expectOssError(bad.put('x.txt', Buffer.from('x')), 'SignatureDoesNotMatch', 403);
    await expectOssError(bad.get('x.txt'), 'SignatureDoesNotMatch', 403);
    // HEAD has no body: the code travels in x-oss-err, which ali-oss decodes.
    await expectOssError(bad.head('x.txt'), 'SignatureDoesNotMatch', 403);
  });

  it('refuses unknown key ids, anonymous requests, stale dates and unknown buckets', async () => {
    await expectOssError(client({ accessKeyId: 'LTAIunknown' }).get('x.txt'), 'InvalidAccessKeyId', 403);
    const anon = await raw('GET', '/photos/x.txt');
    expect(anon.status).toBe(403);
    expect(anon.body).toContain('<Code>AccessDenied</Code>');
    const old = new Date(Date.now() - 3600_000).toUTCString();
    const stale = await raw('GET', '/photos/x.txt', { date: old, authorization: signV1('GET', '/photos/x.txt', old) });
    expect(stale.body).toContain('<Code>RequestTimeTooSkewed</Code>');
    await expectOssError(client({ bucket: 'nobucket' }).get('x.txt'), 'NoSuchBucket', 404);
  });

  it.each([
    ['../escape.txt', '/photos/../escape.txt'],
    ['a/../../escape.txt', '/photos/a/../../escape.txt'],
    ['../escape.txt (encoded)', '/photos/%2e%2e/escape.txt'],
    ['..\\escape.txt (encoded backslash)', '/photos/%2E%2E%5Cescape.txt'],
    ['/etc/passwd (absolute)', '/photos//etc/passwd'],
  ])('refuses the traversal key %s', async (_name, path) => {
    const date = new Date().toUTCString();
    const key = decodeURIComponent(path.slice('/photos/'.length));
    const res = await raw('PUT', path, { date, authorization: signV1('PUT', `/photos/${key}`, date) }, 'evil');
    expect(res.status).toBe(400);
    expect(res.body).toContain('<Code>InvalidObjectName</Code>');
    expect(await readdir(root)).not.toContain('escape.txt');
  });
});

describe('storage port over ali-oss (createOssStorage)', () => {
  const storage = () => createOssStorage({ bucket: 'photos', credentials: credential, endpoint: server.endpoint, retry: { baseDelayMs: 5 } });

  it('put, head, get and list over Uint8Array', async () => {
    const s = storage();
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const { etag } = await s.put('port/a.bin', bytes, { contentType: 'application/x-test', cacheControl: 'no-cache', meta: { 'imgpipe-source-key': 'in%2Fa.jpg' } });
    expect(etag).toMatch(/^[0-9A-F]{32}$/);
    const head = await s.head('port/a.bin');
    expect(head).toMatchObject({ key: 'port/a.bin', size: 4, etag, contentType: 'application/x-test', cacheControl: 'no-cache', meta: { 'imgpipe-source-key': 'in%2Fa.jpg' } });
    expect(await s.head('port/missing.bin')).toBeUndefined();
    const got = await s.get('port/a.bin');
    expect(got.bytes).toBeInstanceOf(Uint8Array);
    expect([...got.bytes]).toEqual([1, 2, 3, 4]);
    expect((await s.list({ prefix: 'port/' })).objects.map((o) => o.key)).toEqual(['port/a.bin']);
    const missing = await s.get('port/missing.bin').catch((e: unknown) => e);
    expect(isImgpipeError(missing, 'NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toMatch(/^OSS GetObject of "port\/missing.bin" in bucket "photos" failed: NoSuchKey \(HTTP 404\): /);
  });

  it('a get with a kept ETag or a byte bound is one GET: 304 without the body, the bound from Content-Length; storageSource makes no HEAD', async () => {
    const s = storage();
    const bytes = new Uint8Array(4096).map((_, i) => i % 251);
    const { etag } = await s.put('port/bounded.bin', bytes, { contentType: 'application/x-test' });
    const count = () => ({ get: server.stats.GetObject ?? 0, head: server.stats.HeadObject ?? 0 });
    const before = count();
    const same = await s.get('port/bounded.bin', { ifNoneMatch: etag });
    expect(same).toMatchObject({ notModified: true, etag, contentType: 'application/x-test' });
    expect(same.bytes.byteLength).toBe(0);
    const fresh = await s.get('port/bounded.bin', { ifNoneMatch: md5Etag(new Uint8Array([1])), maxBytes: 4096 });
    expect([fresh.notModified, fresh.transferable, Buffer.from(fresh.bytes).equals(Buffer.from(bytes))]).toEqual([undefined, true, true]);
    const over = await s.get('port/bounded.bin', { maxBytes: 4095 }).catch((e: unknown) => e);
    expect(isImgpipeError(over, 'IMAGE_TOO_LARGE')).toBe(true);
    expect((over as Error).message).toBe('Expected a source of at most 4095 bytes (limits.maxBytes) but "port/bounded.bin" has 4096 bytes');
    expect(count()).toEqual({ get: before.get + 3, head: before.head });
    expect(isImgpipeError(await s.get('port/none.bin', { maxBytes: 10 }).catch((e: unknown) => e), 'NOT_FOUND')).toBe(true);
    expect(count().head).toBe(before.head);
    // Through the HTTP handler's source with a cache: the first read and every repeat are one GET each.
    const source = storageSource(s, { cacheBytes: 1 << 20 });
    for (let i = 0; i < 3; i++) expect(Buffer.from((await source.get('port/bounded.bin', { maxBytes: 1e6 })).bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(count()).toEqual({ get: before.get + 6, head: before.head });
  });

  it('retries 5xx and connection resets, then succeeds', async () => {
    const s = storage();
    const before = server.stats['fault:put'] ?? 0;
    server.setFaults({ failPuts: 2, status: 503 });
    await s.put('port/retried.bin', new Uint8Array([9]));
    expect((server.stats['fault:put'] ?? 0) - before).toBe(2);
    server.setFaults({ resetConnections: 1 });
    expect([...(await s.get('port/retried.bin')).bytes]).toEqual([9]);
    expect(server.stats['fault:reset']).toBeGreaterThanOrEqual(1);
  });

  it('gives up after its retries, as STORAGE_ERROR naming the OSS code', async () => {
    const s = createOssStorage({ bucket: 'photos', credentials: credential, endpoint: server.endpoint, retry: { retries: 1, baseDelayMs: 1 } });
    server.setFaults({ failPuts: 5, status: 503 });
    const e = await s.put('port/never.bin', new Uint8Array([1])).catch((err: unknown) => err);
    server.setFaults({});
    expect(isImgpipeError(e, 'STORAGE_ERROR')).toBe(true);
    expect((e as Error).message).toMatch(/^OSS PutObject of "port\/never.bin" in bucket "photos" failed: ServiceUnavailable \(HTTP 503\): /);
  });

  it('never retries a 4xx: a wrong secret fails on the first attempt as ACCESS_DENIED', async () => {
    const attemptsBefore = server.stats.PutObject ?? 0;
    let retried = 0;
    const s2 = createOssStorage({ bucket: 'photos', credentials: { ...credential, accessKeySecret: 'wrong' }, endpoint: server.endpoint, retry: { retries: 3, baseDelayMs: 1, onRetry: () => retried++ } });
    const e = await s2.put('port/x.bin', new Uint8Array([1])).catch((err: unknown) => err);
    expect(isImgpipeError(e, 'ACCESS_DENIED')).toBe(true);
    expect((e as Error).message).toContain('SignatureDoesNotMatch (HTTP 403)');
    expect((e as Error).message).not.toContain('wrong');
    expect(retried).toBe(0);
    expect(server.stats.PutObject ?? 0).toBe(attemptsBefore);
  });
});

describe('local OSS server events', () => {
  it('delivers EventBridge CloudEvents filtered by a pattern, with FC-style retries after a throw', async () => {
    const eventsRoot = await mkdtemp(join(tmpdir(), 'imgpipe-events-'));
    const received: UploadEvent[] = [];
    let failNext = true;
    const events = await startLocalOss({
      root: eventsRoot,
      buckets: ['incoming'],
      credentials: [credential],
      notify: {
        format: 'cloudevent',
        pattern: { data: { oss: { object: { key: [{ suffix: '.jpg' }] } } } },
        retries: 2,
        retryDelayMs: 1,
        handler: async (event) => {
          expect(event).toBeInstanceOf(Uint8Array);
          if (failNext) {
            failNext = false;
            throw new Error('transient');
          }
          received.push(...parseUploadEvents(event));
          return 'done';
        },
      },
    });
    try {
      const oss = new OSS({ ...credential, bucket: 'incoming', endpoint: events.endpoint, region: 'oss-cn-hangzhou' });
      const put = await oss.put('in/a b+ü.jpg', Buffer.from('jpeg bytes'), { meta: { tag: 'x' } as unknown as OSS.UserMeta });
      await oss.put('in/notes.txt', Buffer.from('text'));
      await events.idle();
      expect(events.invocations.map((i) => [i.key, i.attempt, i.ok])).toEqual([['in/a b+ü.jpg', 0, false], ['in/a b+ü.jpg', 1, true]]);
      expect(events.invocations[0].error).toBe('Error: transient');
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        shape: 'cloudevent',
        bucket: 'incoming',
        key: 'in/a b+ü.jpg',
        size: 10,
        etag: String((put.res.headers as Record<string, string>).etag).replace(/"/g, ''),
        region: 'cn-hangzhou',
        userMeta: { 'x-oss-meta-tag': 'x' },
      });
      expect(received[0].cloudEvent).toMatchObject({ source: 'acs.oss', type: 'oss:ObjectCreated:PutObject', subject: 'acs:oss:cn-hangzhou:1234567890:incoming/in/a b+ü.jpg' });
    } finally {
      await events.close();
      await rm(eventsRoot, { recursive: true, force: true });
    }
  });
});
