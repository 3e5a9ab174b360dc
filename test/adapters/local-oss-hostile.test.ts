/**
 * The local OSS server against clients that don't play fair: refusals are decided from the headers
 * and answered without reading (or buffering) the body, accepted bodies are capped, and a V4
 * signature must be for this server's region and match the body it declares.
 */
import OSS from 'ali-oss';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOss, type LocalOss } from '../../adapters/local-oss/server.js';

const credential = { accessKeyId: 'LTAItestkey0002', accessKeySecret: 'test-secret-0002' };
let root: string;
let server: LocalOss;

const client = (opts: Record<string, unknown> = {}) =>
  new OSS({ ...credential, bucket: 'photos', endpoint: server.endpoint, region: 'oss-cn-hangzhou', ...opts } as OSS.Options);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-oss-hostile-'));
  server = await startLocalOss({ root, buckets: ['photos'], credentials: [credential], maxObjectBytes: 4096 });
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
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
  });
});
