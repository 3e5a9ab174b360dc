/**
 * Every event shape an upload can arrive in, parsed into one typed `UploadEvent` list:
 *
 * - the OSS trigger payload `{"events":[record, ...]}` (Function Compute hands it over as a Buffer);
 * - an EventBridge CloudEvent in structured JSON (`{"specversion":"1.0", "type":"oss:ObjectCreated:...",
 *   "data": record}`), alone or in a batch array;
 * - the EventBridge TEMPLATE transform users write to slim the event down, `{"bucket","key","size"}`;
 * - an S3 notification `{"Records":[...]}` for the same code on AWS Lambda.
 *
 * Runtime-neutral: bytes arrive as `Uint8Array` (a Node Buffer is one) and are decoded with TextDecoder.
 */
import { ImgpipeError, describeValue } from '../../src/index.js';
import { decodeUrlKey, type KeyEncoding } from './keys.js';

/** Which shape an event arrived in. */
export type EventShape = 'oss-trigger' | 'cloudevent' | 'template' | 's3';

export interface UploadEvent {
  /** Delivery id: the CloudEvent `id`, or the request id (+ key) of a trigger record. Re-deliveries keep it. */
  readonly id: string;
  readonly shape: EventShape;
  /** Event name without the `oss:` prefix, e.g. `ObjectCreated:PutObject` (S3: `ObjectCreated:Put`). */
  readonly eventType: string;
  readonly bucket: string;
  /** The object key, URL-decoded for S3, as written for OSS (see `keyEncoding`). */
  readonly key: string;
  readonly keyEncoding: KeyEncoding;
  /** Object size in bytes; absent when a TEMPLATE transform left it out. */
  readonly size?: number;
  /** Upper-case hex, no quotes (the OSS form); absent when the event does not carry it. */
  readonly etag?: string;
  /** Region without the `oss-` prefix, e.g. `cn-hangzhou`. */
  readonly region?: string;
  /** ISO-8601 event time, when given. */
  readonly time?: string;
  /** The object's user metadata as the event reports it (`x-oss-meta-*` keys), when given. */
  readonly userMeta?: Readonly<Record<string, string>>;
  /**
   * The event as an EventBridge CloudEvent (`{id, source, type, subject, data: OSS record}`), whatever
   * shape it arrived in: event patterns are written against this, exactly as in EventBridge.
   */
  readonly cloudEvent: Readonly<Record<string, unknown>>;
}

/** A JSON value as read from an event. */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function invalid(message: string, details?: Record<string, unknown>): ImgpipeError {
  return new ImgpipeError('INVALID_EVENT', message, { details });
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field readers that name the path they read in their message. */
function field(parent: JsonObject, name: string): Json | undefined {
  return Object.prototype.hasOwnProperty.call(parent, name) ? parent[name] : undefined;
}
function obj(parent: JsonObject, path: string, name: string): JsonObject {
  const v = field(parent, name);
  if (!isObject(v)) throw invalid(`Expected an object at ${path}.${name} but received ${describeValue(v)}`, { path: `${path}.${name}` });
  return v;
}
function str(parent: JsonObject, path: string, name: string): string {
  const v = field(parent, name);
  if (typeof v !== 'string' || v === '') throw invalid(`Expected a non-empty string at ${path}.${name} but received ${describeValue(v)}`, { path: `${path}.${name}` });
  return v;
}
function optStr(parent: JsonObject, path: string, name: string): string | undefined {
  return field(parent, name) === undefined ? undefined : str(parent, path, name);
}
function size(parent: JsonObject, path: string, name: string, acceptNumericString: boolean): number | undefined {
  const v = field(parent, name);
  if (v === undefined) return undefined;
  // TEMPLATE transforms substitute into strings ("${size}"), so there a numeric string is the norm.
  const n = typeof v === 'number' ? v : acceptNumericString && typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw invalid(`Expected a non-negative integer at ${path}.${name} but received ${describeValue(v)}`, { path: `${path}.${name}` });
  }
  return n;
}
function userMeta(objectRecord: JsonObject): Record<string, string> | undefined {
  const meta = objectRecord.objectMeta;
  if (!isObject(meta) || !isObject(meta.userMeta)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta.userMeta)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return Object.freeze(out);
}
function normalizeEventEtag(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/^"|"$/g, '').toUpperCase();
}

/** Turn whatever the runtime handed over (Buffer, bytes, string, parsed JSON) into a JSON value. */
export function readEventJson(input: unknown): Json {
  if (input instanceof Uint8Array || typeof input === 'string') {
    const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input);
    try {
      return JSON.parse(text) as Json;
    } catch (cause) {
      throw new ImgpipeError('INVALID_EVENT', `Expected the event to be JSON but received ${describeValue(text)}: ${(cause as Error).message}`, { cause });
    }
  }
  if (input === undefined || input === null) throw invalid(`Expected an event but received ${describeValue(input)}`);
  return input as Json;
}

/** Parse one OSS event record (a trigger's `events[i]`, or a CloudEvent's `data`). */
function parseOssRecord(record: JsonObject, path: string, id: string | undefined, shape: EventShape, envelope?: JsonObject): UploadEvent {
  const eventName = str(record, path, 'eventName');
  const oss = obj(record, path, 'oss');
  const bucket = str(obj(oss, `${path}.oss`, 'bucket'), `${path}.oss.bucket`, 'name');
  const objectRecord = obj(oss, `${path}.oss`, 'object');
  const key = str(objectRecord, `${path}.oss.object`, 'key');
  const etag = normalizeEventEtag(optStr(objectRecord, `${path}.oss.object`, 'eTag'));
  const region = optStr(record, path, 'region');
  const requestId = isObject(record.responseElements) && typeof record.responseElements.requestId === 'string' ? record.responseElements.requestId : undefined;
  const eventId = id ?? `${requestId ?? `${bucket}@${etag ?? 'unknown'}`}/${key}`;
  const cloudEvent = envelope ?? {
    id: eventId,
    source: 'acs.oss',
    specversion: '1.0',
    type: `oss:${eventName}`,
    subject: `${typeof oss.bucket === 'object' && isObject(oss.bucket) && typeof oss.bucket.arn === 'string' ? oss.bucket.arn : `acs:oss:${region ?? ''}::${bucket}`}/${key}`,
    time: record.eventTime ?? null,
    data: record,
  };
  return Object.freeze({
    id: eventId,
    shape,
    eventType: eventName,
    bucket,
    key,
    keyEncoding: 'raw',
    size: size(objectRecord, `${path}.oss.object`, 'size', false),
    etag,
    region,
    time: optStr(record, path, 'eventTime'),
    userMeta: userMeta(objectRecord),
    cloudEvent: Object.freeze(cloudEvent),
  });
}

function parseCloudEvent(ev: JsonObject, path: string): UploadEvent {
  const id = str(ev, path, 'id');
  str(ev, path, 'source');
  const type = str(ev, path, 'type');
  const spec = str(ev, path, 'specversion');
  if (spec !== '1.0') throw invalid(`Expected specversion "1.0" at ${path}.specversion but received ${describeValue(spec)}`);
  let data: Json | undefined = ev.data;
  // A CloudEvent whose data was kept as a JSON string (some SDKs and HTTP bridges do) is still an OSS record.
  if (typeof data === 'string') data = readEventJson(data);
  if (!isObject(data)) throw invalid(`Expected an OSS event record at ${path}.data but received ${describeValue(data)}`, { path: `${path}.data` });
  if (!type.startsWith('oss:Object')) {
    throw invalid(`Expected an OSS object event type (oss:Object...) at ${path}.type but received ${describeValue(type)}`, { path: `${path}.type` });
  }
  const parsed = parseOssRecord(data, `${path}.data`, id, 'cloudevent', { ...ev, data });
  const region = parsed.region ?? (typeof ev.aliyunregionid === 'string' ? ev.aliyunregionid : undefined);
  return Object.freeze({ ...parsed, region, time: parsed.time ?? (typeof ev.time === 'string' ? ev.time : undefined) });
}

function parseS3Record(record: JsonObject, path: string): UploadEvent {
  const eventName = str(record, path, 'eventName');
  const s3 = obj(record, path, 's3');
  const bucket = str(obj(s3, `${path}.s3`, 'bucket'), `${path}.s3.bucket`, 'name');
  const objectRecord = obj(s3, `${path}.s3`, 'object');
  const key = decodeUrlKey(str(objectRecord, `${path}.s3.object`, 'key'));
  const etag = normalizeEventEtag(optStr(objectRecord, `${path}.s3.object`, 'eTag'));
  const objectSize = size(objectRecord, `${path}.s3.object`, 'size', false);
  const region = optStr(record, path, 'awsRegion');
  const requestId = isObject(record.responseElements) && typeof record.responseElements['x-amz-request-id'] === 'string' ? record.responseElements['x-amz-request-id'] : bucket;
  const sequencer = typeof objectRecord.sequencer === 'string' ? objectRecord.sequencer : etag ?? '';
  const id = `${requestId}/${sequencer}/${key}`;
  return Object.freeze({
    id,
    shape: 's3',
    eventType: eventName,
    bucket,
    key,
    keyEncoding: 'url',
    size: objectSize,
    etag,
    region,
    time: optStr(record, path, 'eventTime'),
    userMeta: undefined,
    cloudEvent: Object.freeze({
      id,
      source: 'aws.s3',
      specversion: '1.0',
      type: `s3:${eventName}`,
      subject: `arn:aws:s3:::${bucket}/${key}`,
      data: syntheticRecord(eventName, 'aws:s3', region, bucket, key, objectSize, etag),
    }),
  });
}

/** The OSS-record shape for events that did not arrive as one, so one pattern fits every shape. */
function syntheticRecord(eventName: string, eventSource: string, region: string | undefined, bucket: string, key: string, objectSize: number | undefined, etag: string | undefined): JsonObject {
  const object: JsonObject = { key };
  if (objectSize !== undefined) object.size = objectSize;
  if (etag !== undefined) object.eTag = etag;
  const record: JsonObject = { eventName, eventSource, oss: { bucket: { name: bucket }, object } };
  if (region !== undefined) record.region = region;
  return record;
}

function parseTemplate(ev: JsonObject, path: string): UploadEvent {
  const bucket = str(ev, path, 'bucket');
  const key = str(ev, path, 'key');
  const objectSize = size(ev, path, 'size', true);
  const etag = normalizeEventEtag(optStr(ev, path, 'etag') ?? optStr(ev, path, 'eTag'));
  const region = optStr(ev, path, 'region');
  // A TEMPLATE transform only runs after the user's EventBridge rule matched, which selects created
  // objects; a template may pass the real name on as "eventName" (or "type", with its "oss:" prefix).
  const named = optStr(ev, path, 'eventName') ?? optStr(ev, path, 'type')?.replace(/^oss:/, '');
  const eventType = named ?? 'ObjectCreated:*';
  const id = optStr(ev, path, 'id') ?? `${bucket}/${key}@${etag ?? objectSize ?? ''}`;
  return Object.freeze({
    id,
    shape: 'template',
    eventType,
    bucket,
    key,
    keyEncoding: 'raw',
    size: objectSize,
    etag,
    region,
    time: undefined,
    userMeta: undefined,
    cloudEvent: Object.freeze({ id, source: 'acs.oss', specversion: '1.0', type: `oss:${eventType}`, data: syntheticRecord(eventType, 'acs:oss', region, bucket, key, objectSize, etag) }),
  });
}

function parseOne(ev: Json, path: string): UploadEvent[] {
  if (!isObject(ev)) throw invalid(`Expected an event object at ${path} but received ${describeValue(ev)}`, { path });
  if ('events' in ev) {
    const events = ev.events;
    if (!Array.isArray(events) || events.length === 0) throw invalid(`Expected a non-empty array at ${path}.events but received ${describeValue(events)}`, { path: `${path}.events` });
    return events.map((r, i) => {
      if (!isObject(r)) throw invalid(`Expected an event record at ${path}.events[${i}] but received ${describeValue(r)}`);
      return parseOssRecord(r, `${path}.events[${i}]`, undefined, 'oss-trigger');
    });
  }
  if ('Records' in ev) {
    const records = ev.Records;
    if (!Array.isArray(records) || records.length === 0) throw invalid(`Expected a non-empty array at ${path}.Records but received ${describeValue(records)}`, { path: `${path}.Records` });
    return records.map((r, i) => {
      if (!isObject(r)) throw invalid(`Expected an event record at ${path}.Records[${i}] but received ${describeValue(r)}`);
      return parseS3Record(r, `${path}.Records[${i}]`);
    });
  }
  if ('specversion' in ev) return [parseCloudEvent(ev, path)];
  if ('bucket' in ev && 'key' in ev) return [parseTemplate(ev, path)];
  throw invalid(
    `Expected an OSS trigger event ({"events":[...]}), an EventBridge CloudEvent ({"specversion":...}), a template event ({"bucket","key"}) or an S3 notification ({"Records":[...]}) at ${path} but received an object with keys ${describeValue(Object.keys(ev))}`,
    { path },
  );
}

/**
 * Parse an event in any supported shape. Throws `ImgpipeError('INVALID_EVENT')` with the JSON path of
 * the first problem; the handler treats that as permanent (a malformed event never becomes valid by
 * retrying it).
 */
export function parseUploadEvents(input: unknown): readonly UploadEvent[] {
  const json = readEventJson(input);
  const events = Array.isArray(json)
    ? json.flatMap((ev, i) => parseOne(ev, `event[${i}]`))
    : parseOne(json, 'event');
  if (events.length === 0) throw invalid('Expected at least one event but received an empty array');
  return Object.freeze(events);
}
