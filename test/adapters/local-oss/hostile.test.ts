/**
 * The local OSS server against clients that don't play fair: refusals are decided from the headers
 * and answered without reading (or buffering) the body, accepted bodies are capped, and a V4
 * signature must be for this server's region and match the body it declares.
 */
import OSS from 'ali-oss';
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';

const credential = { accessKeyId: 'LTAItestkey0002', accessKeySecret: 'test-secret-0002' };
let root: string;
let server: LocalOss;
/** The same limits with anonymous writes allowed, for raw-socket bodies (no signature to compute). */
let openRoot: string;
let open: LocalOss;

const client = (opts: Record<string, unknown> = {}) =>
  new OSS({ ...credential, bucket: 'photos', endpoint: server.endpoint, region: 'oss-cn-hangzhou', ...opts } as OSS.Options);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-oss-hostile-'));
  server = await startLocalOss({ root, buckets: ['photos'], credentials: [credential], maxObjectBytes: 4096 });
  openRoot = await mkdtemp(join(tmpdir(), 'imgpipe-oss-open-'));
  open = await startLocalOss({ root: openRoot, buckets: ['photos'], credentials: [credential], maxObjectBytes: 4096, allowAnonymous: true });
});
afterAll(async () => {
  await server.close();
  await open.close();
  await rm(root, { recursive: true, force: true });
  await rm(openRoot, { recursive: true, force: true });
});

/**
 * Send a PUT's headers declaring `declared` bytes and only `sent` of them, then wait for the answer:
 * it must come while the body is still unsent, and the server must close the connection.
 */
function partialPut(headers: string, declared: number, sent: number): Promise<{ head: string; body: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { text += d; });
    socket.on('close', () => {
      const cut = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, cut), body: text.slice(cut + 4), closed: true });
    });
    socket.on('error', reject);
    socket.write(`PUT /photos/big.bin HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${declared}\r\n${headers}\r\n`);
    socket.write(Buffer.alloc(sent));
  });
}

/** Temporary files of bodies being streamed in (the store's `.tmp` folder under the root). */
const partials = async (dir = openRoot): Promise<string[]> => readdir(join(dir, '.tmp')).catch(() => []);

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Expected ${what} within 5 s`);
}

/** A raw anonymous PUT to the open server: headers sent, body left to the caller. */
function rawPut(key: string, headers: string): { socket: ReturnType<typeof connect>; answer: Promise<string> } {
  const socket = connect(open.port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => { text += d; });
  const answer = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
  socket.on('error', () => undefined);
  socket.write(`PUT /photos/${key} HTTP/1.1\r\nHost: 127.0.0.1:${open.port}\r\n${headers}\r\n`);
  return { socket, answer };
}

/**
 * A PUT signed with OSS V4 in the Authorization header, declaring `payloadHash` as its
 * x-oss-content-sha256 (ali-oss always sends UNSIGNED-PAYLOAD). Written from OSS's V4 description.
 */
function v4Put(key: string, body: Buffer, payloadHash: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = date.slice(0, 8);
  const region = server.region;
  const headers = { 'x-oss-content-sha256': payloadHash, 'x-oss-date': date };
  const canonicalHeaders = Object.entries(headers).map(([k, v]) => `${k}:${v}\n`).join('');
  const canonicalRequest = ['PUT', `/photos/${key}`, '', canonicalHeaders, '', payloadHash].join('\n');
  const scope = `${day}/${region}/oss/aliyun_v4_request`;
  const stringToSign = ['OSS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let signingKey: Buffer = createHmac('sha256', `aliyun_v4${credential.accessKeySecret}`).update(day).digest();
  for (const part of [region, 'oss', 'aliyun_v4_request']) signingKey = createHmac('sha256', signingKey).update(part).digest();
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: server.port, method: 'PUT', path: `/photos/${key}`,
      headers: { ...headers, 'content-length': body.length, authorization: `OSS4-HMAC-SHA256 Credential=${credential.accessKeyId}/${scope},Signature=${signature}` },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local OSS server bodies', () => {
  it('streams an accepted body to disk as it arrives; a client gone mid-body leaves nothing, and an existing object keeps its bytes', async () => {
    const signed = client({ endpoint: open.endpoint });
    await signed.put('keep.bin', Buffer.from('old'));
    for (const key of ['gone.bin', 'keep.bin']) {
      const { socket, answer } = rawPut(key, 'Content-Length: 4000\r\n');
      socket.write(Buffer.alloc(1500, 7));
      // The first 1500 bytes are on disk (in a temporary file) before the rest is sent.
      await until('the partial body on disk', async () => {
        const files = await partials();
        return files.length === 1 && (await stat(join(openRoot, '.tmp', files[0]))).size === 1500;
      });
      socket.destroy();
      await answer;
      await until('the temporary file removed', async () => (await partials()).length === 0);
    }
    expect((await signed.head('gone.bin').catch((e: { status: number }) => e)).status).toBe(404);
    expect(existsSync(join(openRoot, 'photos', 'gone.bin'))).toBe(false);
    expect(Buffer.from((await signed.get('keep.bin')).content).toString()).toBe('old');
  });

  it('refuses a body that passes maxObjectBytes without a Content-Length (chunked) as it streams, leaving nothing', async () => {
    const { socket, answer } = rawPut('chunked.bin', 'Transfer-Encoding: chunked\r\n');
    for (let i = 0; i < 5; i++) socket.write(`3e8\r\n${'x'.repeat(1000)}\r\n`);
    const text = await answer;
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text).toContain('<Code>EntityTooLarge</Code>');
    expect(text).toContain('<Message>Your proposed upload exceeds the maximum allowed size: 5000 bytes, at most 4096 (maxObjectBytes).</Message>');
    expect(await partials()).toEqual([]);
    expect(existsSync(join(openRoot, 'photos', 'chunked.bin'))).toBe(false);
  });

  it('checks a V4 body hash while streaming: a wrong x-oss-content-sha256 is refused as OSS does, the right one and UNSIGNED-PAYLOAD accepted', async () => {
    const body = Buffer.from('the body that was signed');
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const wrong = await v4Put('v4-wrong.bin', body, sha(Buffer.from('another body')));
    expect(wrong.status).toBe(403);
    expect(wrong.headers['x-oss-ec']).toBe('0002-00000214');
    expect(wrong.text).toContain('<Code>AccessDenied</Code>');
    expect(wrong.text).toContain('<Message>The value of the x-oss-content-sha256 header is invalid.</Message>');
    expect(wrong.text).toContain('<EC>0002-00000214</EC>');
    expect((await client().head('v4-wrong.bin').catch((err: { status: number }) => err)).status).toBe(404);
    expect(await partials(root)).toEqual([]);
    expect(await v4Put('v4-hashed.bin', body, sha(body))).toMatchObject({ status: 200 });
    expect(await v4Put('v4-unsigned.bin', body, 'UNSIGNED-PAYLOAD')).toMatchObject({ status: 200 });
    // And through ali-oss's own V4 signing (UNSIGNED-PAYLOAD).
    await client({ authorizationV4: true }).put('v4-sdk.bin', body);
    for (const key of ['v4-hashed.bin', 'v4-unsigned.bin', 'v4-sdk.bin']) expect(Buffer.from((await client().get(key)).content).toString()).toBe(body.toString());
  });
});

describe('local OSS server refusals', () => {
  it('answers a 1 GiB PUT with a bogus signature with 403 and Connection: close, reading none of it', async () => {
    const { head, body, closed } = await partialPut('Date: Sat, 05 Dec 2026 09:00:00 GMT\r\nAuthorization: OSS LTAItestkey0002:bm9wZQ==\r\n', 2 ** 30, 65536);
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(closed).toBe(true);
  });

  it('answers an anonymous 1 GiB PUT the same way', async () => {
    const { head, body } = await partialPut('', 2 ** 30, 1024);
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(body).toContain('<Message>You have no right to access this object because the request is anonymous.</Message>');
  });

  it('refuses an authenticated body over maxObjectBytes with EntityTooLarge, and keeps serving', async () => {
    await expect(client().put('big.bin', Buffer.alloc(5000))).rejects.toMatchObject({ code: 'EntityTooLarge', status: 400 });
    expect((await client().head('big.bin').catch((e: { status: number }) => e)).status).toBe(404);
    await client().put('small.bin', Buffer.alloc(4096));
    expect((await client().get('small.bin')).content.length).toBe(4096);
  });

  it('refuses a V4 signature scoped to another region', async () => {
    const other = client({ authorizationV4: true, region: 'oss-cn-beijing' });
    await expect(other.get('small.bin')).rejects.toMatchObject({ code: 'AccessDenied', status: 403 });
    const here = client({ authorizationV4: true });
    expect((await here.get('small.bin')).content.length).toBe(4096);
  });
});

describe('local OSS server errors', () => {
  it('keys c and c.json/x collide in the metadata tree: 409, without revealing the root path', async () => {
    await client().put('c', Buffer.from('one'));
    const e = await client().put('c.json/x', Buffer.from('two')).catch((err: { status: number; code: string; message: string }) => err);
    expect(e).toMatchObject({ status: 409, code: 'KeyConflict' });
    expect((e as { message: string }).message).not.toContain(root);
    expect(Buffer.from((await client().get('c')).content).toString()).toBe('one');
    // Refused before its bytes landed: no orphan file that a later read would take for an object.
    expect(existsSync(join(root, 'photos', 'c.json'))).toBe(false);
    expect((await client().head('c.json/x').catch((err: { status: number }) => err)).status).toBe(404);
  });
});
