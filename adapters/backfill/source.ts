/**
 * Where a backfill's objects come from: `oss://BUCKET/PREFIX` listed with ListObjectsV2 (pages of
 * 1,000 keys), or an OSS inventory (`manifest.json` + CSV or CSV.gz files) read as a stream, which is
 * what a bucket of millions of objects should use: one GET per inventory file instead of one LIST per
 * 1,000 keys, and memory that does not grow with the bucket.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import OSS from 'ali-oss';
import { ImgpipeError, describeValue, isImgpipeError } from '../../src/index.js';
import { checkBucketName, normalizeEtag, type Storage } from '../storage.js';
import type { OssCredentials } from '../oss/credentials.js';

export interface OssLocation {
  readonly bucket: string;
  /** Key prefix, possibly empty (the URL's path without its leading slash). */
  readonly prefix: string;
}

/** One object to consider. */
export interface SourceObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** Upper-case hex, no quotes. */
  readonly etag: string;
}

/** Parse `oss://bucket/prefix` (the form ossutil uses). */
export function parseOssUrl(url: string, what: string): OssLocation {
  const m = /^oss:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new ImgpipeError('INVALID_ARGUMENT', `Expected an oss://BUCKET[/PREFIX] URL for ${what} but received ${describeValue(url)}`);
  try {
    checkBucketName(m[1]);
  } catch {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a bucket name of 3-63 lower-case letters, digits and '-' in ${what} but received ${describeValue(m[1])} (from ${describeValue(url)})`);
  }
  return Object.freeze({ bucket: m[1], prefix: m[2] ?? '' });
}

/** Turn a storage failure of a listing into the refusal a user can act on (which bucket, what to do). */
export function explainStorageError(e: unknown, bucket: string, role: string): unknown {
  if (!isImgpipeError(e)) return e;
  const storageCode = e.details?.storageCode;
  if (storageCode === 'NoSuchBucket') {
    return new ImgpipeError('NOT_FOUND', `The ${role} bucket ${describeValue(bucket)} does not exist at this endpoint: check the bucket name, --endpoint and the region`, { cause: e, details: { bucket } });
  }
  if (e.code === 'ACCESS_DENIED') {
    return new ImgpipeError('ACCESS_DENIED', `OSS refused the credentials for the ${role} bucket ${describeValue(bucket)} (${String(storageCode ?? 'AccessDenied')}): set ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET (or OSS_*) to a key allowed to list and read it`, { cause: e, details: { bucket } });
  }
  return e;
}

/** Every object under the prefix, in key order, a page (up to 1,000) at a time. */
export async function* listSource(storage: Storage, prefix: string): AsyncGenerator<readonly SourceObject[]> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await storage.list({ prefix, startAfter, maxKeys: 1000 }).catch((e: unknown) => { throw explainStorageError(e, storage.bucket, 'source'); });
    yield page.objects.map((o) => ({ bucket: storage.bucket, key: o.key, size: o.size, etag: o.etag }));
    if (page.nextStartAfter === undefined) return;
    startAfter = page.nextStartAfter;
  }
}

/** The parts of an OSS inventory `manifest.json` a backfill reads. */
export interface InventoryManifest {
  readonly sourceBucket: string;
  readonly fileFormat: 'CSV';
  readonly columns: readonly string[];
  readonly files: readonly { readonly key: string; readonly size?: number; readonly md5?: string }[];
}

const malformed = (where: string, expected: string, received: unknown) =>
  new ImgpipeError('INVALID_ARGUMENT', `Malformed OSS inventory manifest ${where}: expected ${expected} but received ${describeValue(received)}. Point --inventory at the manifest.json OSS wrote for the inventory (fields Size and ETag enabled)`);

/** Check an inventory manifest's shape. Size and ETag are required: without them nothing can be classified. */
function parseInventoryManifest(text: string, where: string): InventoryManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed(where, 'JSON', text.slice(0, 60));
  }
  const m = json as Record<string, unknown>;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw malformed(where, 'a JSON object', json);
  if (typeof m.sourceBucket !== 'string') throw malformed(`${where} (sourceBucket)`, 'the source bucket name', m.sourceBucket);
  if (String(m.fileFormat).toUpperCase() !== 'CSV') throw malformed(`${where} (fileFormat)`, '"CSV" (ORC and Parquet inventories are not read)', m.fileFormat);
  if (typeof m.fileSchema !== 'string') throw malformed(`${where} (fileSchema)`, 'a comma-separated list of fields', m.fileSchema);
  const columns = m.fileSchema.split(',').map((c) => c.trim());
  for (const need of ['Key', 'Size', 'ETag']) {
    if (!columns.includes(need)) throw malformed(`${where} (fileSchema)`, `a field list with ${need}`, m.fileSchema);
  }
  if (!Array.isArray(m.files) || m.files.length === 0) throw malformed(`${where} (files)`, 'a non-empty array of {key, size, MD5checksum}', m.files);
  const files = m.files.map((f: unknown, i: number) => {
    const file = f as Record<string, unknown>;
    if (typeof file !== 'object' || file === null || typeof file.key !== 'string' || file.key === '') throw malformed(`${where} (files[${i}].key)`, 'an object key', file?.key);
    return { key: file.key, size: typeof file.size === 'number' ? file.size : undefined, md5: typeof file.MD5checksum === 'string' ? file.MD5checksum.toUpperCase() : undefined };
  });
  return Object.freeze({ sourceBucket: m.sourceBucket, fileFormat: 'CSV', columns, files });
}

/** One CSV line: fields separated by commas, optionally double-quoted with "" for a quote. */
function parseCsvLine(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      if (line.slice(i, end).includes('"')) return undefined;
      out.push(line.slice(i, end));
      i = end;
    }
    if (i === line.length) return out;
    if (line[i] !== ',') return undefined;
    i++;
  }
}

export interface InventoryReader {
  readonly manifest: InventoryManifest;
  /** The objects of every file, streamed in batches of one decoded chunk (about 64 KB of CSV) each. */
  objects(prefix: string): AsyncGenerator<readonly SourceObject[]>;
}

/** A client for streaming GETs (the storage port reads whole objects; an inventory file can be 100s of MB). */
export function rawClient(bucket: string, credentials: OssCredentials, endpoint: string | undefined, region: string): OSS {
  return new OSS({
    bucket,
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    stsToken: credentials.securityToken,
    region: `oss-${region.replace(/^oss-/, '')}`,
    endpoint,
    secure: true,
    timeout: 120_000,
  });
}

/**
 * Open an inventory: read and check its manifest now (so a malformed one is refused before any
 * work), stream its files later. Keys in OSS inventory files are URL-encoded; each file's MD5 is
 * checked against the manifest once the file has been read.
 */
export async function openInventory(storage: Storage, client: OSS, manifestKey: string, expectBucket: string): Promise<InventoryReader> {
  const where = `oss://${storage.bucket}/${manifestKey}`;
  const raw = await storage.get(manifestKey).catch((e: unknown) => {
    if (isImgpipeError(e, 'NOT_FOUND')) return Promise.reject(new ImgpipeError('NOT_FOUND', `No inventory manifest at ${where}: pass the manifest.json of an OSS inventory of ${describeValue(expectBucket)}`));
    return Promise.reject(explainStorageError(e, storage.bucket, 'inventory'));
  });
  const manifest = parseInventoryManifest(new TextDecoder().decode(raw.bytes), where);
  if (manifest.sourceBucket !== expectBucket) {
    throw new ImgpipeError('INVALID_ARGUMENT', `The inventory at ${where} lists bucket ${describeValue(manifest.sourceBucket)}, not the source bucket ${describeValue(expectBucket)}: pass an inventory of the bucket being backfilled`);
  }
  const col = (name: string) => manifest.columns.indexOf(name);
  const [kBucket, kKey, kSize, kEtag] = [col('Bucket'), col('Key'), col('Size'), col('ETag')];
  async function* objects(prefix: string): AsyncGenerator<readonly SourceObject[]> {
    for (const file of manifest.files) {
      const fileWhere = `oss://${storage.bucket}/${file.key}`;
      let body: Readable;
      try {
        body = (await client.getStream(file.key)).stream as Readable;
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw new ImgpipeError(code === 'NoSuchKey' ? 'NOT_FOUND' : 'STORAGE_ERROR', `Could not read inventory file ${fileWhere} listed in ${where}: ${code ?? String(e)}`, { cause: e });
      }
      const md5 = createHash('md5');
      // The MD5 is of the bytes as stored (compressed), so it is taken before gunzip.
      const hashed = body.pipe(new Transform({ transform(chunk: Buffer, _enc, done) { md5.update(chunk); done(null, chunk); } }));
      body.on('error', (e) => hashed.destroy(e));
      const text = file.key.endsWith('.gz')
        ? hashed.pipe(createGunzip())
        : hashed;
      const gzipError = (e: Error) => new ImgpipeError('INVALID_ARGUMENT', `Malformed inventory file ${fileWhere}: not gzip (${e.message}); OSS writes .csv.gz files gzip-compressed`);
      hashed.on('error', (e) => text.destroy(e));
      // Lines split by hand from the decoded chunks, and a chunk's objects handed over as one batch:
      // readline and a yield per row cost more than the parsing itself at a million rows.
      const decoder = new TextDecoder();
      let rest = '';
      let n = 0;
      const parse = (line: string): SourceObject | undefined => {
        n++;
        if (line === '' || line === '\r') return undefined;
        if (line.endsWith('\r')) line = line.slice(0, -1);
        const bad = (what: string) => new ImgpipeError('INVALID_ARGUMENT', `Malformed inventory file ${fileWhere} line ${n}: ${what} (fileSchema ${describeValue(manifest.columns.join(', '))}) in ${describeValue(line)}`);
        const f = parseCsvLine(line);
        if (!f || f.length !== manifest.columns.length) throw bad(`expected ${manifest.columns.length} comma-separated fields`);
        let key: string;
        try {
          key = decodeURIComponent(f[kKey].replace(/\+/g, '%20'));
        } catch {
          throw bad('the Key field is not URL-encoded');
        }
        const size = Number(f[kSize]);
        if (f[kSize] === '' || !Number.isInteger(size) || size < 0) throw bad('the Size field is not a non-negative integer');
        const etag = normalizeEtag(f[kEtag]);
        if (!/^[0-9A-F]{32}(-\d+)?$/.test(etag)) throw bad('the ETag field is not an OSS ETag');
        if (!key.startsWith(prefix)) return undefined;
        return { bucket: kBucket >= 0 ? f[kBucket] : manifest.sourceBucket, key, size, etag };
      };
      const batchOf = (lines: string[]): SourceObject[] => {
        const batch: SourceObject[] = [];
        for (const line of lines) {
          const o = parse(line);
          if (o) batch.push(o);
        }
        return batch;
      };
      try {
        for await (const chunk of text as AsyncIterable<Buffer>) {
          const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
          rest = lines.pop()!;
          yield batchOf(lines);
        }
      } catch (e) {
        throw isImgpipeError(e) ? e : text === hashed ? new ImgpipeError('STORAGE_ERROR', `Reading inventory file ${fileWhere} failed: ${String(e)}`, { cause: e }) : gzipError(e as Error);
      }
      yield batchOf([rest + decoder.decode()]);
      const digest = md5.digest('hex').toUpperCase();
      if (file.md5 !== undefined && file.md5 !== digest) {
        throw new ImgpipeError('INVALID_ARGUMENT', `Inventory file ${fileWhere} has MD5 ${digest} but ${where} says ${file.md5}: the inventory is damaged or was rewritten; use a complete one`);
      }
    }
  }
  return { manifest, objects };
}
