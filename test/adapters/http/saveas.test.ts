/**
 * sys/saveas through the real ali-oss client (`processObjectSave`) against the HTTP handler, with the
 * buckets on the local OSS-compatible server behind the storage port: the result lands in the bucket
 * byte for byte, and GET, buckets off the allow-list and keys the key rule refuses are refused.
 */
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../../entries/node.js';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';
import { createOssStorage } from '../../../adapters/oss/storage.js';
import { createNodeListener } from '../../../adapters/http/node.js';
import { createFetchHandler } from '../../../adapters/http/handler.js';
import { storageSource } from '../../../adapters/http/source.js';
import { signProcess, SIGNATURE_PARAM } from '../../../adapters/http/sign.js';
import type { Storage } from '../../../adapters/storage.js';
import { listen } from './servers.js';

const IMAGES = new URL('../../fixtures/images/', import.meta.url);
const credential = { accessKeyId: 'LTAItestkey0001', accessKeySecret: 'test-secret-0001' };
const b64 = (s: string) => Buffer.from(s).toString('base64url');
let root: string;
let oss: LocalOss;
let photos: Storage, other: Storage;
let url: string;
let server: Server;
let client: OSS;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-saveas-'));
  oss = await startLocalOss({ root, buckets: ['photos', 'other', 'private'], credentials: [credential] });
  const storage = (bucket: string) => createOssStorage({ bucket, endpoint: oss.endpoint, credentials: credential, secure: false, retry: { retries: 0 } });
  [photos, other] = [storage('photos'), storage('other')];
  await photos.put('in/Landscape_6.jpg', new Uint8Array(await readFile(new URL('Landscape_6.jpg', IMAGES))), { contentType: 'image/jpeg' });
  ({ server, url } = await listen(createNodeListener({ source: storageSource(photos), saveAs: { buckets: { photos, other }, defaultBucket: 'photos' } })));
  // The SDK as a user would aim it at imgpipe: the handler's address as a custom domain.
  client = new OSS({ ...credential, bucket: 'photos', endpoint: url, cname: true, region: 'oss-cn-hangzhou' });
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await oss.close();
  await rm(root, { recursive: true, force: true });
});

/** ali-oss's processObjectSave (missing from its type declarations). */
function save(source: string, target: string, process: string, bucket?: string): Promise<{ status: number }> {
  return (client as unknown as { processObjectSave(s: string, t: string, p: string, b?: string): Promise<{ status: number }> }).processObjectSave(source, target, process, bucket);
}

describe('sys/saveas', () => {
  const process = 'image/resize,w_200/format,webp';

  it("ali-oss processObjectSave writes the result to the source's bucket, byte for byte what a GET gives", async () => {
    const res = await save('in/Landscape_6.jpg', 'out/l6 small.webp', process);
    expect(res.status).toBe(200);
    const got = await fetch(`${url}/in/Landscape_6.jpg?x-oss-process=${encodeURIComponent(process)}`);
    const saved = await photos.get('out/l6 small.webp');
    expect(Buffer.from(saved.bytes).equals(Buffer.from(await got.arrayBuffer()))).toBe(true);
    expect(saved.contentType).toBe('image/webp');
  });

  it('b_ names another allowed bucket; standard Base64 (what ali-oss writes) is read too', async () => {
    // 'a>>?' is 'YT4+Pw' in standard Base64: a '+' that URL-safe Base64 would write as '-'.
    const res = await save('in/Landscape_6.jpg', 'out/a>>?.png', 'image/resize,w_50/format,png', 'other');
    expect(res.status).toBe(200);
    expect((await other.head('out/a>>?.png'))?.contentType).toBe('image/png');
  });

  it('answers with the target as JSON, from a plain form POST with URL-safe Base64', async () => {
    const body = new URLSearchParams({ 'x-oss-process': `${process}|sys/saveas,o_${b64('out/form.webp')},b_${b64('photos')}` });
    const res = await fetch(`${url}/in/Landscape_6.jpg?x-oss-process`, { method: 'POST', body });
    expect(res.status).toBe(200);
    const json = await res.json() as { bucket: string; fileSize: number; object: string; status: string };
    expect(json).toMatchObject({ bucket: 'photos', object: 'out/form.webp', status: 'OK' });
    expect(json.fileSize).toBe((await photos.head('out/form.webp'))!.size);
  });

  it('refuses a bucket off the allow-list (403), a key the key rule refuses (400), and saveas in a GET (400)', async () => {
    // processObjectSave resolves with the status rather than throwing.
    expect((await save('in/Landscape_6.jpg', 'out/x.webp', process, 'private')).status).toBe(403);
    expect(await oss.storage('private').head('out/x.webp')).toBeUndefined();
    const bad = await fetch(`${url}/in/Landscape_6.jpg?x-oss-process`, { method: 'POST', body: new URLSearchParams({ 'x-oss-process': `${process}|sys/saveas,o_${b64('out/../../escape.webp')}` }) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("contains a &apos;.&apos; or &apos;..&apos; path segment");
    const get = await fetch(`${url}/in/Landscape_6.jpg?x-oss-process=${encodeURIComponent(`${process}|sys/saveas,o_${b64('out/get.webp')}`)}`);
    expect(get.status).toBe(400);
    expect(await get.text()).toContain('Expected sys/saveas only in a POST body');
    expect(await photos.head('out/get.webp')).toBeUndefined();
    const missing = await fetch(`${url}/in/Landscape_6.jpg?x-oss-process`, { method: 'POST', body: new URLSearchParams({ 'x-oss-process': `${process}|sys/saveas,b_${b64('photos')}` }) });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('Expected sys/saveas.o (the target key)');
  });

  it('without saveAs a POST is refused (405); with signing a saveas needs a signature over its target', async () => {
    const plain = createFetchHandler({ source: storageSource(photos) });
    const body = `x-oss-process=${encodeURIComponent(`${process}|sys/saveas,o_${b64('out/signed.webp')}`)}`;
    expect((await plain(new Request('http://h/in/Landscape_6.jpg?x-oss-process', { method: 'POST', body }))).status).toBe(405);
    const signed = createFetchHandler({ source: storageSource(photos), saveAs: { buckets: { photos }, defaultBucket: 'photos' }, signing: { secret: 's3cret' } });
    const unsigned = await signed(new Request('http://h/in/Landscape_6.jpg?x-oss-process', { method: 'POST', body }));
    expect(unsigned.status).toBe(403);
    const wrongTarget = await signProcess('s3cret', 'in/Landscape_6.jpg', `${process}|sys/saveas,o_${b64('out/other.webp')}`);
    expect((await signed(new Request(`http://h/in/Landscape_6.jpg?x-oss-process&${SIGNATURE_PARAM}=${wrongTarget}`, { method: 'POST', body }))).status).toBe(403);
    const good = await signProcess('s3cret', 'in/Landscape_6.jpg', `${process}|sys/saveas,o_${b64('out/signed.webp')}`);
    const ok = await signed(new Request(`http://h/in/Landscape_6.jpg?x-oss-process&${SIGNATURE_PARAM}=${good}`, { method: 'POST', body }));
    expect(ok.status).toBe(200);
    expect(await photos.head('out/signed.webp')).toBeDefined();
  });
});
