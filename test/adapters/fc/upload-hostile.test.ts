/**
 * Events an attacker can write (anyone who can post a CloudEvent to the HTTP trigger can): another
 * bucket, a region that would pick another endpoint, a flood of records. Run against the local OSS
 * server with the real ali-oss client; the function's credentials can read every bucket there.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUploadHandler, type UploadHandler } from '../../../adapters/fc/handler.js';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';

const credential = { accessKeyId: 'LTAIhostileupload1', accessKeySecret: 'hostile-upload-secret' };
const context = { requestId: 'req-hostile', region: 'cn-hangzhou', credentials: { ...credential } };
let root: string;
let server: LocalOss;
let upload: UploadHandler;
let etag: string;

function record(bucket: string, key: string, region = 'cn-hangzhou') {
  return {
    eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', eventTime: new Date().toISOString(), eventVersion: '1.0', region,
    oss: { bucket: { arn: `acs:oss:${region}:1:${bucket}`, name: bucket }, object: { key, eTag: etag, size: 1, deltaSize: 1, objectMeta: { mimeType: 'image/jpeg', userMeta: {} } }, ossSchemaVersion: '1.0' },
    responseElements: { requestId: 'R-1' },
  };
}

/** The FC HTTP-trigger event carrying one structured-mode CloudEvent. */
function httpEvent(data: ReturnType<typeof record>) {
  const body = JSON.stringify({
    id: 'ce-1', source: 'acs.oss', specversion: '1.0', type: 'oss:ObjectCreated:PutObject', datacontenttype: 'application/json',
    subject: `acs:oss:cn-hangzhou:1:${data.oss.bucket.name}/${data.oss.object.key}`, aliyunregionid: data.region, data,
  });
  return Buffer.from(JSON.stringify({
    version: 'v1', rawPath: '/', isBase64Encoded: false, body, headers: { 'content-type': 'application/cloudevents+json' },
    requestContext: { http: { method: 'POST', path: '/' } },
  }));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-upload-hostile-'));
  server = await startLocalOss({ root, buckets: ['photos', 'photos-out', 'payroll'], credentials: [credential] });
  const bytes = await readFile(new URL('../../fixtures/images/320x240.jpg', import.meta.url));
  etag = (await server.storage('payroll').put('uploads/scan.jpg', bytes, { contentType: 'image/jpeg' })).etag;
  await server.storage('photos').put('uploads/scan.jpg', bytes, { contentType: 'image/jpeg' });
  upload = createUploadHandler({
    sourceBucket: 'photos', targetBucket: 'photos-out', sourcePrefix: 'uploads/', maxEvents: 3,
    env: { IMGPIPE_OSS_ENDPOINT: server.endpoint }, log: () => undefined,
  });
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('upload handler against forged events', () => {
  it('skips an event for another bucket as filtered, reading and writing nothing', async () => {
    const before = { ...server.stats };
    const r = await upload.handler({ events: [record('payroll', 'uploads/scan.jpg')] }, context);
    expect(r.outcomes).toEqual([{ eventId: 'R-1/uploads/scan.jpg', bucket: 'payroll', key: 'uploads/scan.jpg', status: 'skipped', reason: 'filtered' }]);
    expect(server.stats.GetObject ?? 0).toBe(before.GetObject ?? 0);
    expect(server.stats.HeadObject ?? 0).toBe(before.HeadObject ?? 0);
    expect((await server.storage('photos-out').list({})).objects).toEqual([]);
  });

  it('answers the same through the HTTP trigger (200, filtered)', async () => {
    const res = await upload.httpHandler(httpEvent(record('payroll', 'uploads/scan.jpg')), context);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).outcomes).toMatchObject([{ bucket: 'payroll', status: 'skipped', reason: 'filtered' }]);
    expect((await server.storage('photos-out').list({})).objects).toEqual([]);
  });

  it.each(['evil.example.com/x', 'cn-hangzhou.attacker.io', 'CN-HANGZHOU', '../cn-hangzhou'])('fails an event whose region is %j, permanently, before any request', async (region) => {
    const r = await upload.handler({ events: [record('photos', 'uploads/scan.jpg', region)] }, context);
    expect(r.outcomes).toEqual([{
      eventId: 'R-1/uploads/scan.jpg', bucket: 'photos', key: 'uploads/scan.jpg', status: 'failed', code: 'INVALID_EVENT',
      message: `Expected a region such as cn-hangzhou (lower-case letters, digits and '-') for the event's region but received ${JSON.stringify(region)}`,
    }]);
  });

  it('refuses more records than maxEvents before processing any', async () => {
    const four = { events: Array.from({ length: 4 }, () => record('photos', 'uploads/scan.jpg')) };
    expect((await upload.handler(four, context)).outcomes).toEqual([{ status: 'failed', code: 'INVALID_EVENT' }]);
    expect((await server.storage('photos-out').list({})).objects).toEqual([]);
  });

  it('still processes the configured bucket', async () => {
    const r = await upload.handler({ events: [record('photos', 'uploads/scan.jpg')] }, context);
    expect(r.outcomes[0]).toMatchObject({ bucket: 'photos', status: 'processed', variants: 6 });
  });
});
