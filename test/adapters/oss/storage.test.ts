import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../../adapters/oss/credentials.js';
import { backoffDelay, isTransient, withRetry } from '../../../adapters/oss/retry.js';
import { KeyConflictError, checkObjectKey, createFsStorage, isKeyConflict, md5Etag, normalizeEtag } from '../../../adapters/storage.js';
import { describeValue, isImgpipeError, type ImgpipeError } from '../../../src/errors.js';
import { image } from '../../helpers/fixtures.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-fs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('filesystem storage (the local bucket behind the CLI and the local OSS server)', () => {
  it('stores bytes as browsable files and metadata beside them', async () => {
    const s = createFsStorage({ root, bucket: 'local-fs' });
    const bytes = new TextEncoder().encode('abc');
    const { etag } = await s.put('a/b c/ü.txt', bytes, { contentType: 'text/plain', meta: { Who: 'me' } });
    expect(etag).toBe(md5Etag(bytes));
    expect(etag).toBe('900150983CD24FB0D6963F7D28E17F72');
    expect(await readdir(join(root, 'local-fs/a/b c'))).toEqual(['ü.txt']);
    expect(await s.head('a/b c/ü.txt')).toMatchObject({ size: 3, etag, contentType: 'text/plain', meta: { who: 'me' } });
    expect(new TextDecoder().decode((await s.get('a/b c/ü.txt')).bytes)).toBe('abc');
    await s.delete('a/b c/ü.txt');
    expect(await s.head('a/b c/ü.txt')).toBeUndefined();
    // Empty folders are pruned with the object.
    expect(await readdir(join(root, 'local-fs'))).toEqual([]);
  });

  it('escapes keys that are not plain file names and lists them back in OSS order', async () => {
    const s = createFsStorage({ root, bucket: 'escapes' });
    const keys = ['dir/', 'x//y', 'p%41.jpg', 'q:*?.jpg', 'b.json', 'b', 'Z.jpg', '照.jpg'];
    for (const k of keys) await s.put(k, new Uint8Array([1]));
    const listed = (await s.list()).objects.map((o) => o.key);
    expect(listed).toEqual(['Z.jpg', 'b', 'b.json', 'dir/', 'p%41.jpg', 'q:*?.jpg', 'x//y', '照.jpg']);
    const page = await s.list({ maxKeys: 3 });
    expect(page.objects.map((o) => o.key)).toEqual(['Z.jpg', 'b', 'b.json']);
    expect(page.nextStartAfter).toBe('b.json');
    expect((await s.list({ startAfter: page.nextStartAfter, prefix: 'p' })).objects.map((o) => o.key)).toEqual(['p%41.jpg']);
  });

  it('streams a put to disk: renamed into place when accepted, nothing left when refused or cut off', async () => {
    const s = createFsStorage({ root, bucket: 'streamed' });
    const chunks = async function* (parts: string[], fail?: Error) {
      for (const p of parts) yield new TextEncoder().encode(p);
      if (fail) throw fail;
    };
    const seen: { size: number; md5: string }[] = [];
    const put = await s.putStream('k', chunks(['ab', 'cd']), { contentType: 'text/plain', accept: (b) => { seen.push({ size: b.size, md5: b.md5.toString('hex') }); } });
    expect(put).toEqual({ etag: md5Etag(new TextEncoder().encode('abcd')), size: 4 });
    expect(seen).toEqual([{ size: 4, md5: md5Etag(new TextEncoder().encode('abcd')).toLowerCase() }]);
    expect(await s.head('k')).toMatchObject({ size: 4, contentType: 'text/plain' });
    // A refusal after the body, a body that fails half-way, a conflict: the object stays as it was.
    await expect(s.putStream('k', chunks(['xyz']), { accept: () => { throw new Error('refused'); } })).rejects.toThrow('refused');
    await expect(s.putStream('k', chunks(['xy'], new Error('client gone')))).rejects.toThrow('client gone');
    await expect(s.putStream('k/sub', chunks(['z']))).rejects.toBeInstanceOf(KeyConflictError);
    expect(new TextDecoder().decode((await s.get('k')).bytes)).toBe('abcd');
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
    // A key that conflicts only in the metadata tree (c, then c.json/x) is refused before its bytes land.
    await s.putStream('c', chunks(['one']));
    await expect(s.putStream('c.json/x', chunks(['two']))).rejects.toBeInstanceOf(KeyConflictError);
    expect(await readdir(join(root, 'streamed'))).not.toContain('c.json');
  });

  it('refuses a missing object, a key used as a folder, traversal and bad bucket names', async () => {
    const s = createFsStorage({ root, bucket: 'refusals' });
    const missing = await s.get('nope').catch((e: unknown) => e);
    expect(isImgpipeError(missing, 'NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toBe('Object "nope" does not exist in bucket "refusals"');
    await s.put('a', new Uint8Array([1]));
    const conflict = await s.put('a/b', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isImgpipeError(conflict, 'INVALID_ARGUMENT')).toBe(true);
    expect((conflict as Error).message).toBe('Key "a/b" conflicts with an existing key: the local store keeps keys as nested folders, so a key and a key under it as a folder ("a" and "a/b") cannot both exist');
    await s.put('f/g', new Uint8Array([1]));
    const reverse = await s.put('f', new Uint8Array([1])).catch((e: unknown) => e);
    expect((reverse as Error).message).toBe('Key "f" conflicts with an existing key: the local store keeps keys as nested folders, so a key and a key under it as a folder ("a" and "a/b") cannot both exist');
    expect([...(await s.get('f/g')).bytes]).toEqual([1]);
    // Typed: the server's 409 comes from the class (or its details), not from the message's words.
    expect(conflict).toBeInstanceOf(KeyConflictError);
    expect(isKeyConflict(reverse)).toBe(true);
    expect((conflict as ImgpipeError).details).toEqual({ key: 'a/b', reason: 'key-conflict' });
    expect(isKeyConflict(missing)).toBe(false);
    for (const [key, reason] of [
      ['../x', "it contains a '.' or '..' path segment"],
      ['a/./x', "it contains a '.' or '..' path segment"],
      ['a\\..\\x', "it contains a '.' or '..' path segment"],
      ['/etc/passwd', 'it starts with a path separator'],
      ['', 'it is empty'],
      ['a\0b', 'it contains the control character U+0000 at index 1'],
      ['uploads/a\r\nb.jpg', 'it contains the control character U+000D at index 9'],
      ['x\n', 'it contains the control character U+000A at index 1'],
      ['del\u007f.jpg', 'it contains the control character U+007F at index 3'],
      ['esc\u001b[2J', 'it contains the control character U+001B at index 3'],
      ['c1\u0085', 'it contains the control character U+0085 at index 2'],
      ['ü'.repeat(512), 'it is 1024 bytes long (at most 1023)'],
      ['k'.repeat(1024), 'it is 1024 bytes long (at most 1023)'],
    ]) {
      const e = caught(() => checkObjectKey(key));
      expect(isImgpipeError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as Error).message).toBe(`Expected an object key of 1-1023 bytes without control characters or path traversal for key but received ${describeValue(key)}: ${reason}`);
      expect((e as ImgpipeError).details).toEqual({ key });
    }
    // The key is named, escaped: a CR/LF in it cannot split the log line that carries the message.
    expect((caught(() => checkObjectKey('a\r\nb')) as Error).message).toContain('received "a\\r\\nb"');
    expect((caught(() => checkObjectKey('k'.repeat(5000))) as Error).message).toContain(`received "${'k'.repeat(77)}...": it is 5000 bytes long`);
    for (const fine of ['a', 'uploads/summer 2024/flowers+ü 100%.jpeg', '..a/b..', 'a/.hidden', 'tab-free\u00a0nbsp.jpg', 'k'.repeat(1023)]) {
      expect(caught(() => checkObjectKey(fine)), fine).toBeUndefined();
    }
    const badBucket = caught(() => createFsStorage({ root, bucket: '../up' }));
    expect((badBucket as Error).message).toBe(`Expected a bucket name of 3-63 lower-case letters, digits and '-' for bucket but received "../up"`);
  });

  it('serves files copied into the bucket folder by hand: ETag, content type and mtime derived on first read', async () => {
    const s = createFsStorage({ root, bucket: 'by-hand' });
    const jpeg = image('320x240.jpg');
    await mkdir(join(root, 'by-hand/trip/day 1'), { recursive: true });
    await writeFile(join(root, 'by-hand/trip/day 1/photo.JPG'), jpeg);
    await writeFile(join(root, 'by-hand/notes.txt'), 'hello');
    await writeFile(join(root, 'by-hand/.DS_Store'), 'finder');
    await writeFile(join(root, 'by-hand/trip/.hidden.jpg'), jpeg);
    const when = new Date('2026-01-02T03:04:05Z');
    await utimes(join(root, 'by-hand/trip/day 1/photo.JPG'), when, when);

    expect((await s.list()).objects.map((o) => [o.key, o.size, o.etag])).toEqual([
      ['notes.txt', 5, md5Etag(new TextEncoder().encode('hello'))],
      ['trip/day 1/photo.JPG', jpeg.length, md5Etag(jpeg)],
    ]);
    expect(await s.head('trip/day 1/photo.JPG')).toMatchObject({ size: jpeg.length, etag: md5Etag(jpeg), contentType: 'image/jpeg', lastModified: when, meta: {} });
    expect(await s.head('notes.txt')).toMatchObject({ contentType: 'application/octet-stream' });
    expect((await s.get('trip/day 1/photo.JPG')).bytes).toEqual(jpeg);
    expect(await s.head('.DS_Store')).toBeUndefined();
    expect(await s.head('trip/.hidden.jpg')).toBeUndefined();

    // A file replaced by hand is derived again; one removed by hand is gone.
    const png = image('with-alpha.png');
    await writeFile(join(root, 'by-hand/trip/day 1/photo.JPG'), png);
    expect(await s.head('trip/day 1/photo.JPG')).toMatchObject({ size: png.length, etag: md5Etag(png), contentType: 'image/png' });
    await rm(join(root, 'by-hand/notes.txt'));
    expect(await s.head('notes.txt')).toBeUndefined();
    expect((await s.list()).objects.map((o) => o.key)).toEqual(['trip/day 1/photo.JPG']);

    // A put object keeps what was put, and a file put over one derived is the put one.
    await s.put('trip/day 1/photo.JPG', jpeg, { contentType: 'image/x-custom', meta: { by: 'put' } });
    expect(await s.head('trip/day 1/photo.JPG')).toMatchObject({ etag: md5Etag(jpeg), contentType: 'image/x-custom', meta: { by: 'put' } });
  });

  it('keeps records parsed between reads, and a put or a change by hand of the same size is seen at once', async () => {
    const s = createFsStorage({ root, bucket: 'cached' });
    const [a, b] = [new TextEncoder().encode('aaaa'), new TextEncoder().encode('bbbb')];
    await s.put('k', a, { contentType: 'text/a' });
    expect(await s.head('k')).toMatchObject({ etag: md5Etag(a), contentType: 'text/a' });
    expect(await s.head('k')).toMatchObject({ etag: md5Etag(a), contentType: 'text/a' });
    await s.put('k', b, { contentType: 'text/b' });
    expect(await s.head('k')).toMatchObject({ size: 4, etag: md5Etag(b), contentType: 'text/b' });
    await s.delete('k');
    expect(await s.head('k')).toBeUndefined();
    // A file placed by hand, then rewritten by hand at the same size with a later mtime: derived again.
    await writeFile(join(root, 'cached/h'), a);
    expect(await s.head('h')).toMatchObject({ size: 4, etag: md5Etag(a) });
    expect(await s.head('h')).toMatchObject({ size: 4, etag: md5Etag(a) });
    await writeFile(join(root, 'cached/h'), b);
    const later = new Date(Date.now() + 5000);
    await utimes(join(root, 'cached/h'), later, later);
    expect(await s.head('h')).toMatchObject({ size: 4, etag: md5Etag(b) });
  });

  it('never serves new bytes under the previous record: a put stopped between its bytes and its record, or a put object replaced by hand', async () => {
    const s = createFsStorage({ root, bucket: 'torn' });
    const [a, b] = [new TextEncoder().encode('first version'), new TextEncoder().encode('second, longer version')];
    await s.put('k', a, { contentType: 'text/a', meta: { v: '1' } });
    expect(await s.head('k')).toMatchObject({ size: a.length, etag: md5Etag(a), contentType: 'text/a', meta: { v: '1' } });
    // What a crash between a put's two renames leaves: the new object file, the old record.
    await writeFile(join(root, 'torn/k'), b);
    const later = new Date(Date.now() + 5000);
    await utimes(join(root, 'torn/k'), later, later);
    expect(await s.head('k')).toMatchObject({ size: b.length, etag: md5Etag(b), meta: {} });
    expect((await s.get('k')).bytes).toEqual(b);
    expect((await s.list()).objects.map((o) => [o.key, o.etag])).toEqual([['k', md5Etag(b)]]);
    // The record file left with no object file: the object is gone.
    await s.put('gone', a);
    await rm(join(root, 'torn/gone'));
    expect(await s.head('gone')).toBeUndefined();
    // A put again after that is the put one.
    await s.put('k', a, { contentType: 'text/a', meta: { v: '3' } });
    expect(await s.head('k')).toMatchObject({ etag: md5Etag(a), contentType: 'text/a', meta: { v: '3' } });
  });

  it('gets bytes read afresh for the caller alone: a view over the whole buffer, marked transferable', async () => {
    const s = createFsStorage({ root, bucket: 'fresh' });
    const jpeg = image('320x240.jpg');
    await s.put('p.jpg', jpeg);
    const [one, two] = [await s.get('p.jpg'), await s.get('p.jpg')];
    expect(one.transferable).toBe(true);
    expect(one.bytes).toEqual(jpeg);
    expect(one.bytes.byteOffset === 0 && one.bytes.byteLength === one.bytes.buffer.byteLength).toBe(true);
    expect(one.bytes.buffer).not.toBe(two.bytes.buffer);
  });

  it('a get decides the size bound and a kept copy\'s ETag from the record, before reading the file', async () => {
    const s = createFsStorage({ root, bucket: 'bounded' });
    const jpeg = image('320x240.jpg');
    const { etag } = await s.put('p.jpg', jpeg, { contentType: 'image/jpeg' });
    const e = await s.get('p.jpg', { maxBytes: 100 }).catch((err: unknown) => err);
    expect(isImgpipeError(e, 'IMAGE_TOO_LARGE')).toBe(true);
    expect((e as Error).message).toBe(`Expected a source of at most 100 bytes (limits.maxBytes) but "p.jpg" has ${jpeg.byteLength} bytes`);
    // The ETag in any form (quoted, lower case): the object still has it, so nothing is read.
    const same = await s.get('p.jpg', { ifNoneMatch: `"${etag.toLowerCase()}"`, maxBytes: jpeg.byteLength });
    expect(same).toMatchObject({ notModified: true, etag, size: jpeg.byteLength, contentType: 'image/jpeg' });
    expect(same.bytes.byteLength).toBe(0);
    const changed = await s.get('p.jpg', { ifNoneMatch: md5Etag(new Uint8Array([1])) });
    expect(changed.notModified).toBeUndefined();
    expect(changed.bytes).toEqual(jpeg);
  });

  it('normalises ETags to the OSS form', () => {
    expect(normalizeEtag('"abc-2"')).toBe('ABC-2');
    expect(normalizeEtag('W/"abc"')).toBe('ABC');
  });
});

describe('retry policy', () => {
  it.each([
    [{ status: 503 }, true],
    [{ status: 500 }, true],
    [{ status: -1, name: 'RequestError' }, true],
    [{ status: -2, name: 'ConnectionTimeoutError' }, true],
    [{ name: 'ResponseTimeoutError' }, true],
    [{ code: 'ECONNRESET' }, true],
    [{ cause: { code: 'ECONNRESET' } }, true],
    [{ status: 404, code: 'NoSuchKey' }, false],
    [{ status: 403, code: 'SignatureDoesNotMatch' }, false],
    [{ status: 400, code: 'ECONNRESET' }, false],
    [new Error('plain'), false],
    ['string', false],
  ])('isTransient(%j) is %s', (error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffDelay(1, { random: () => 0.999, baseDelayMs: 100 })).toBe(99);
    expect(backoffDelay(3, { random: () => 0.5, baseDelayMs: 100 })).toBe(200);
    expect(backoffDelay(10, { random: () => 0.5, baseDelayMs: 100, maxDelayMs: 1000 })).toBe(500);
    expect(backoffDelay(2, { random: () => 0 })).toBe(0);
  });

  it('retries transient failures only, and rethrows the last error', async () => {
    let calls = 0;
    const delays: number[] = [];
    const value = await withRetry(async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('busy'), { status: 503 });
      return 'ok';
    }, { baseDelayMs: 1, onRetry: (i) => delays.push(i.attempt) });
    expect(value).toBe('ok');
    expect(delays).toEqual([1, 2]);

    let fourxx = 0;
    const e = await withRetry(async () => {
      fourxx++;
      throw Object.assign(new Error('denied'), { status: 403 });
    }, { baseDelayMs: 1 }).catch((err: unknown) => err);
    expect((e as Error).message).toBe('denied');
    expect(fourxx).toBe(1);

    let always = 0;
    await withRetry(async () => {
      always++;
      throw Object.assign(new Error('down'), { status: 502 });
    }, { retries: 2, baseDelayMs: 1 }).catch(() => undefined);
    expect(always).toBe(3);
  });
});

describe('credentials', () => {
  it('prefers the FC context STS triple, then ALIBABA_CLOUD_*, then OSS_*', () => {
    const ctx = { credentials: { accessKeyId: 'STS.id', accessKeySecret: 's', securityToken: 't' } };
    expect(resolveCredentials(ctx, { ALIBABA_CLOUD_ACCESS_KEY_ID: 'env' , ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'x' })).toEqual({ accessKeyId: 'STS.id', accessKeySecret: 's', securityToken: 't' });
    expect(resolveCredentials({ credentials: {} }, { ALIBABA_CLOUD_ACCESS_KEY_ID: 'a', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'b', ALIBABA_CLOUD_SECURITY_TOKEN: 'c' })).toEqual({ accessKeyId: 'a', accessKeySecret: 'b', securityToken: 'c' });
    expect(resolveCredentials(undefined, { OSS_ACCESS_KEY_ID: 'o', OSS_ACCESS_KEY_SECRET: 'p' })).toEqual({ accessKeyId: 'o', accessKeySecret: 'p', securityToken: undefined });
    const e = caught(() => resolveCredentials({ credentials: { accessKeyId: '', accessKeySecret: '' } }, { OSS_ACCESS_KEY_ID: 'only-id' }));
    expect(isImgpipeError(e, 'ACCESS_DENIED')).toBe(true);
    expect((e as Error).message).toBe(
      'Expected OSS credentials in context.credentials (a role on the function), ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET or OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET but found none',
    );
  });
});
