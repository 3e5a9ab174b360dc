/**
 * OSS refusing the handler's own reads (credentials rotated away or expired)
 * through the real ali-oss client, the storage port and the fetch handler: the answer is an error
 * status with OSS's XML, never a 200 carrying an error (the object API's own codes, such as
 * InvalidAccessKeyId, are not the image service's and have no status of their own).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../../entries/node.js';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';
import { createOssStorage } from '../../../adapters/oss/storage.js';
import { createFetchHandler } from '../../../adapters/http/handler.js';
import { storageSource } from '../../../adapters/http/source.js';
import { ossCodeOf } from '../../../src/index.js';
import { ImgpipeError } from '../../../src/errors.js';

const credential = { accessKeyId: 'LTAIstorageerr01', accessKeySecret: 'storage-errors-secret' };
let root: string;
let oss: LocalOss;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-storage-errors-'));
  oss = await startLocalOss({ root, buckets: ['photos'], credentials: [credential] });
  await oss.storage('photos').put('in/a.jpg', new Uint8Array(await readFile(new URL('../../fixtures/images/320x240.jpg', import.meta.url))));
});
afterAll(async () => {
  await oss.close();
  await rm(root, { recursive: true, force: true });
});

const answer = async (bucket: string, credentials: typeof credential, path: string) => {
  const storage = createOssStorage({ bucket, endpoint: oss.endpoint, credentials, secure: false, retry: { retries: 0 } });
  const res = await createFetchHandler({ source: storageSource(storage) })(new Request(`http://img.example.com${path}`));
  return { status: res.status, body: await res.text() };
};

describe('OSS refusing the handler\'s reads', () => {
  it('a key OSS does not know (rotated or expired credentials): 403 AccessDenied', async () => {
    for (const path of ['/in/a.jpg?x-oss-process=image/resize,w_10', '/in/a.jpg']) {
      const { status, body } = await answer('photos', { accessKeyId: 'LTAInotakey000001', accessKeySecret: 'x' }, path);
      expect(status, path).toBe(403);
      expect(body, path).toContain('<Code>AccessDenied</Code>');
      // The message names the read and the bucket, and OSS's own answer (after it, OSS's request id).
      expect(body, path).toMatch(/<Message>OSS (GetObject|HeadObject) of &quot;in\/a\.jpg&quot; in bucket &quot;photos&quot; failed: \w+ \(HTTP 403\): /);
    }
    // The same request with the right key is answered.
    expect((await answer('photos', credential, '/in/a.jpg?x-oss-process=image/resize,w_10')).status).toBe(200);
  });

  it('ossCodeOf takes only the image service\'s codes from details', () => {
    expect(ossCodeOf(new ImgpipeError('ACCESS_DENIED', 'x', { details: { ossCode: 'SecurityTokenExpired' } }))).toBe('AccessDenied');
    expect(ossCodeOf(new ImgpipeError('STORAGE_ERROR', 'x', { details: { ossCode: 'NoSuchBucket' } }))).toBe('InternalError');
    expect(ossCodeOf(new ImgpipeError('INVALID_ARGUMENT', 'x', { details: { ossCode: 'WatermarkError' } }))).toBe('WatermarkError');
  });
});
