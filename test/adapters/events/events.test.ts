import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { encodeUrlKey, keyCandidates } from '../../../adapters/events/keys.js';
import { parseHttpCloudEvents, toHttpCloudEvent } from '../../../adapters/fc/cloudevents.js';
import { parseUploadEvents } from '../../../adapters/events/upload-event.js';
import { isImgpipeError } from '../../../src/errors.js';

// The FC3 OSS trigger sample from the spec, verbatim apart from the key.
function ossRecord(key: string) {
  return {
    eventName: 'ObjectCreated:PutObject',
    eventSource: 'acs:oss',
    eventTime: '2022-08-13T06:45:43.000Z',
    eventVersion: '1.0',
    oss: {
      bucket: { arn: 'acs:oss:cn-hangzhou:123456789:testbucket', name: 'testbucket', ownerIdentity: '164901546557****', virtualBucket: '' },
      object: { deltaSize: 122539, eTag: '688A7BF4F233DC9C88A80BF985AB1234', key, size: 122539, objectMeta: { mimeType: 'image/png', userMeta: { 'x-oss-meta-foo': 'bar' } } },
      ossSchemaVersion: '1.0',
      ruleId: '9adac8e253828f4f7c0466d941fa3db81161****',
    },
    region: 'cn-hangzhou',
    requestParameters: { sourceIPAddress: '140.205.XX.XX' },
    responseElements: { requestId: '58F9FF2D3DF792092E12044C' },
    userIdentity: { principalId: '164901546557****' },
  };
}

function cloudEvent(key: string) {
  return {
    id: '69B1A0A8',
    source: 'acs.oss',
    specversion: '1.0',
    type: 'oss:ObjectCreated:PostObject',
    datacontenttype: 'application/json;charset=utf-8',
    subject: `acs:oss:cn-hangzhou:1239:testbucket/${key}`,
    time: '2026-03-11T05:40:45.000Z',
    aliyunaccountid: '1239',
    aliyunregionid: 'cn-hangzhou',
    data: ossRecord(key),
  };
}

function s3Notification(encodedKey: string) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2024-01-01T00:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810' },
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: 'photos', arn: 'arn:aws:s3:::photos' },
          object: { key: encodedKey, size: 1024, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0A1B2C3D4E5F678901' },
        },
      },
    ],
  };
}

// Keys that break naive handling: a space, '+', '%', non-ASCII, and a '%'-sequence that reads as an escape.
const hardKeys = ['source/a b.jpg', 'source/a+b.jpg', 'source/100%.jpg', 'source/照片 ü.jpg', 'source/a%20b.jpg', 'source/x/y z+%41.png'];

function expectInvalidEvent(fn: () => unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isImgpipeError(caught, 'INVALID_EVENT')).toBe(true);
  if (typeof message === 'string') expect((caught as Error).message).toBe(message);
  else expect((caught as Error).message).toMatch(message);
}

describe('parseUploadEvents', () => {
  it('reads the OSS trigger payload as FC delivers it: a Buffer of JSON', () => {
    const [ev] = parseUploadEvents(Buffer.from(JSON.stringify({ events: [ossRecord('source/a.png')] })));
    expect(ev).toMatchObject({
      shape: 'oss-trigger',
      eventType: 'ObjectCreated:PutObject',
      bucket: 'testbucket',
      key: 'source/a.png',
      keyEncoding: 'raw',
      size: 122539,
      etag: '688A7BF4F233DC9C88A80BF985AB1234',
      region: 'cn-hangzhou',
      time: '2022-08-13T06:45:43.000Z',
      userMeta: { 'x-oss-meta-foo': 'bar' },
    });
    expect(ev.id).toBe('58F9FF2D3DF792092E12044C/source/a.png');
    expect(ev.cloudEvent).toMatchObject({ source: 'acs.oss', type: 'oss:ObjectCreated:PutObject', subject: 'acs:oss:cn-hangzhou:123456789:testbucket/source/a.png' });
  });

  it('iterates every record of a trigger payload', () => {
    const events = parseUploadEvents({ events: [ossRecord('a.jpg'), ossRecord('b.jpg')] });
    expect(events.map((e) => e.key)).toEqual(['a.jpg', 'b.jpg']);
  });

  it('reads a structured EventBridge CloudEvent, alone and in a batch', () => {
    const [ev] = parseUploadEvents(JSON.stringify(cloudEvent('input/file.jpg')));
    expect(ev).toMatchObject({ shape: 'cloudevent', id: '69B1A0A8', eventType: 'ObjectCreated:PutObject', bucket: 'testbucket', key: 'input/file.jpg', region: 'cn-hangzhou' });
    expect(ev.cloudEvent.type).toBe('oss:ObjectCreated:PostObject');
    const batch = parseUploadEvents([cloudEvent('a.jpg'), cloudEvent('b.jpg')]);
    expect(batch.map((e) => e.key)).toEqual(['a.jpg', 'b.jpg']);
  });

  it('reads the TEMPLATE shape, with the size substituted as a string', () => {
    const [ev] = parseUploadEvents('{"bucket":"photos","key":"in/a.jpg","size":"2048"}');
    expect(ev).toMatchObject({ shape: 'template', bucket: 'photos', key: 'in/a.jpg', size: 2048, eventType: 'ObjectCreated:*', keyEncoding: 'raw' });
    const [named] = parseUploadEvents({ bucket: 'photos', key: 'in/a.jpg', type: 'oss:ObjectCreated:PutObject', etag: '"abc"' });
    expect(named).toMatchObject({ eventType: 'ObjectCreated:PutObject', etag: 'ABC', size: undefined });
  });

  it('reads an S3 notification and normalises its ETag', () => {
    const [ev] = parseUploadEvents(s3Notification('in/a.jpg'));
    expect(ev).toMatchObject({ shape: 's3', bucket: 'photos', key: 'in/a.jpg', keyEncoding: 'url', size: 1024, etag: 'D41D8CD98F00B204E9800998ECF8427E', region: 'us-east-1', eventType: 'ObjectCreated:Put' });
    expect(ev.cloudEvent).toMatchObject({ type: 's3:ObjectCreated:Put', data: { eventName: 'ObjectCreated:Put', oss: { object: { key: 'in/a.jpg', size: 1024 } } } });
  });

  it.each(hardKeys)('round-trips %j in the OSS shapes (raw keys) and the S3 shape (URL-encoded keys)', (key) => {
    expect(parseUploadEvents({ events: [ossRecord(key)] })[0].key).toBe(key);
    expect(parseUploadEvents(cloudEvent(key))[0].key).toBe(key);
    expect(parseUploadEvents({ bucket: 'photos', key })[0].key).toBe(key);
    const encoded = encodeUrlKey(key);
    expect(encoded).not.toMatch(/[ 照ü]/);
    expect(parseUploadEvents(s3Notification(encoded))[0].key).toBe(key);
  });

  it('keeps the URL-decoded reading of an OSS key as a fallback, in case OSS encoded it', () => {
    expect(keyCandidates('source/a b.jpg', 'raw')).toEqual(['source/a b.jpg']);
    expect(keyCandidates('source/a%20b+c.jpg', 'raw')).toEqual(['source/a%20b+c.jpg', 'source/a b c.jpg']);
    expect(keyCandidates('source/100%.jpg', 'raw')).toEqual(['source/100%.jpg']);
    expect(keyCandidates('source/a+b.jpg', 'url')).toEqual(['source/a+b.jpg']);
  });

  describe('malformed events are INVALID_EVENT with the path of the problem', () => {
    it('not JSON', () => expectInvalidEvent(() => parseUploadEvents(Buffer.from('not json')), /^Expected the event to be JSON but received "not json": /));
    it('nothing', () => expectInvalidEvent(() => parseUploadEvents(undefined), 'Expected an event but received nothing'));
    it('an unknown shape', () =>
      expectInvalidEvent(() => parseUploadEvents({ hello: 1 }), 'Expected an OSS trigger event ({"events":[...]}), an EventBridge CloudEvent ({"specversion":...}), a template event ({"bucket","key"}) or an S3 notification ({"Records":[...]}) at event but received an object with keys ["hello"]'));
    it('empty events array', () => expectInvalidEvent(() => parseUploadEvents({ events: [] }), 'Expected a non-empty array at event.events but received []'));
    it('missing key', () => {
      const rec = ossRecord('a.jpg') as { oss: { object: Record<string, unknown> } };
      delete rec.oss.object.key;
      expectInvalidEvent(() => parseUploadEvents({ events: [rec] }), 'Expected a non-empty string at event.events[0].oss.object.key but received nothing');
    });
    it('size of the wrong type', () => {
      const rec = ossRecord('a.jpg') as { oss: { object: Record<string, unknown> } };
      rec.oss.object.size = '12';
      expectInvalidEvent(() => parseUploadEvents({ events: [rec] }), 'Expected a non-negative integer at event.events[0].oss.object.size but received "12"');
    });
    it('bucket of the wrong type', () => {
      const rec = ossRecord('a.jpg') as { oss: Record<string, unknown> };
      rec.oss.bucket = 'testbucket';
      expectInvalidEvent(() => parseUploadEvents({ events: [rec] }), 'Expected an object at event.events[0].oss.bucket but received "testbucket"');
    });
    it('a CloudEvent that is not about an object', () =>
      expectInvalidEvent(() => parseUploadEvents({ ...cloudEvent('a.jpg'), type: 'oss:BucketCreated:PutBucket' }), 'Expected an OSS object event type (oss:Object...) at event.type but received "oss:BucketCreated:PutBucket"'));
    it('a CloudEvent of another spec version', () => expectInvalidEvent(() => parseUploadEvents({ ...cloudEvent('a.jpg'), specversion: '0.3' }), 'Expected specversion "1.0" at event.specversion but received "0.3"'));
    it('a batch with one bad element', () => expectInvalidEvent(() => parseUploadEvents([cloudEvent('a.jpg'), 7]), 'Expected an event object at event[1] but received 7'));
    it('a template with a negative size', () => expectInvalidEvent(() => parseUploadEvents({ bucket: 'b', key: 'k', size: '-1' }), 'Expected a non-negative integer at event.size but received "-1"'));
    it('an S3 key with a broken escape', () => expectInvalidEvent(() => parseUploadEvents(s3Notification('in/%E4.jpg')), 'Expected a URL-encoded object key but received "in/%E4.jpg": it has a malformed %-escape'));
  });
});

describe('CloudEvents over HTTP (cloudevents SDK binding)', () => {
  const key = 'input/a b+照片.jpg';
  const ce = new CloudEvent({ ...cloudEvent(key) });

  it('binary mode: attributes in ce-* headers, the OSS record as the body', () => {
    const msg = HTTP.binary(ce);
    expect(msg.headers['ce-type']).toBe('oss:ObjectCreated:PostObject');
    const [ev] = parseHttpCloudEvents({ headers: msg.headers as Record<string, string>, body: String(msg.body) });
    expect(ev).toMatchObject({ shape: 'cloudevent', id: '69B1A0A8', bucket: 'testbucket', key, region: 'cn-hangzhou' });
    expect(ev.cloudEvent.aliyunaccountid).toBe('1239');
  });

  it('structured mode: the whole envelope as application/cloudevents+json bytes', () => {
    const msg = HTTP.structured(ce);
    expect(String(msg.headers['content-type'])).toContain('application/cloudevents+json');
    const [ev] = parseHttpCloudEvents({ headers: msg.headers as Record<string, string>, body: new TextEncoder().encode(String(msg.body)) });
    expect(ev).toMatchObject({ id: '69B1A0A8', key, size: 122539 });
  });

  it.each(['binary', 'structured'] as const)('toHttpCloudEvent builds a %s-mode message that parses back', (mode) => {
    const msg = toHttpCloudEvent(cloudEvent(key), mode);
    if (mode === 'binary') expect(msg.headers['ce-id']).toBe('69B1A0A8');
    else expect(msg.headers['content-type']).toContain('application/cloudevents+json');
    const [ev] = parseHttpCloudEvents(msg);
    expect(ev).toMatchObject({ id: '69B1A0A8', key, bucket: 'testbucket', etag: '688A7BF4F233DC9C88A80BF985AB1234' });
  });

  it('refuses a request that is not a CloudEvent', () =>
    expectInvalidEvent(() => parseHttpCloudEvents({ headers: { 'content-type': 'text/plain' }, body: 'hi' }), 'Expected a CloudEvent over HTTP (ce-* headers, or content-type application/cloudevents+json) but received content-type "text/plain"'));

  it('refuses a binary-mode request missing a required attribute', () =>
    expectInvalidEvent(
      () => parseHttpCloudEvents({ headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-type': 'oss:ObjectCreated:PutObject', 'ce-id': '1' }, body: '{}' }),
      'Expected a non-empty string at event[0].source but received nothing',
    ));
});
