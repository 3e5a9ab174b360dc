/**
 * The storage port: the four object operations the upload handler needs, over `Uint8Array`, for one
 * bucket. OSS (adapters/oss) and the local filesystem (below) implement it; the handler is written
 * against this interface only, so it runs unchanged against Alibaba Cloud, the local OSS-compatible
 * server and a plain directory.
 *
 * The filesystem implementation is also the backing store of the local OSS server, so the rules for
 * turning an object key into a file path (and refusing keys that would escape the root) live here,
 * once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { statSync, type Dirent, type Stats } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ImgpipeError, byteLimitError, describeValue, isImgpipeError } from '../src/index.js';
import { FORMATS, sniffFormat } from '../src/index.js';
import { checkObjectKey, noSuchObject, objectKeyProblem } from './object-key.js';

// The key rules are runtime-neutral (the HTTP handler checks keys too); re-exported for existing callers.
export { checkObjectKey, objectKeyProblem };

/** What a HEAD returns. `etag` is the OSS form: upper-case hex, without quotes. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly contentType?: string;
  readonly cacheControl?: string;
  readonly lastModified?: Date;
  /** User metadata without the `x-oss-meta-` prefix, keys lower-cased. */
  readonly meta: Readonly<Record<string, string>>;
}

export interface StoredObject extends ObjectInfo {
  /** Empty when `notModified`. */
  readonly bytes: Uint8Array;
  /** The object still has the ETag `GetOptions.ifNoneMatch` named: nothing was read, `bytes` is empty. */
  readonly notModified?: boolean;
  /**
   * True when `bytes` was made for this call alone (read afresh, held by nothing else), so its
   * caller may hand its buffer to a worker thread instead of copying it (the HTTP handler does).
   */
  readonly transferable?: boolean;
}

/**
 * What a read may decide from the object's own metadata before its bytes move, in the same request
 * (the local store's one record read, OSS's one GET): a reader that needs the size bound or keeps a
 * copy makes no HEAD of its own.
 */
export interface GetOptions {
  /** Refuse (IMAGE_TOO_LARGE, `limits.maxBytes`'s message) an object larger than this without reading it all. */
  readonly maxBytes?: number;
  /** The ETag (any form) of a copy the caller keeps: when the object still has it, the answer is `notModified` with no bytes. */
  readonly ifNoneMatch?: string;
}

/** The answer of a `get` whose `ifNoneMatch` still names the object: its metadata, no bytes. */
export function notModified(info: ObjectInfo): StoredObject {
  return Object.freeze({ ...info, bytes: new Uint8Array(0), notModified: true });
}

export interface PutOptions {
  readonly contentType?: string;
  readonly cacheControl?: string;
  /** User metadata without the `x-oss-meta-` prefix. Values must be printable ASCII (they travel as HTTP headers). */
  readonly meta?: Readonly<Record<string, string>>;
}

export interface ListOptions {
  readonly prefix?: string;
  /** Return keys strictly after this one (OSS `start-after` / `marker`). */
  readonly startAfter?: string;
  /** Page size, 1..1000 (default 1000). */
  readonly maxKeys?: number;
}

export interface ListPage {
  readonly objects: readonly Omit<ObjectInfo, 'meta' | 'contentType' | 'cacheControl'>[];
  /** Present when more keys follow: pass it as `startAfter` to read the next page. */
  readonly nextStartAfter?: string;
}

/**
 * One bucket's objects. `get` of a missing key throws `ImgpipeError('NOT_FOUND')`; `head` of a missing
 * key resolves `undefined` (the idempotency check asks "does it exist?" on every output, so absence is
 * an answer, not an error). Transient failures throw `ImgpipeError('STORAGE_ERROR')`.
 */
export interface Storage {
  readonly bucket: string;
  get(key: string, options?: GetOptions): Promise<StoredObject>;
  head(key: string): Promise<ObjectInfo | undefined>;
  put(key: string, bytes: Uint8Array, options?: PutOptions): Promise<{ readonly etag: string }>;
  list(options?: ListOptions): Promise<ListPage>;
}

/** Opens the storage for a bucket (the handler reads from the event's bucket and writes to a target). */
export type StorageFactory = (bucket: string, region: string | undefined) => Storage;

/** OSS's ETag for a simple upload: the MD5 of the bytes, upper-case hex. */
export function md5Etag(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex').toUpperCase();
}

/** Strip the quotes (and weak marker) that HTTP puts around an ETag, and upper-case it as OSS does. */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '').toUpperCase();
}

/** OSS's rules for bucket names: 3-63 of a-z 0-9 and '-', not starting or ending with '-'. */
export function checkBucketName(bucket: string): void {
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ImgpipeError(
      'INVALID_ARGUMENT',
      `Expected a bucket name of 3-63 lower-case letters, digits and '-' for bucket but received ${describeValue(bucket)}`,
    );
  }
}

/*
 * Keys map to nested directories so a developer can browse the bucket, one escaped segment per level.
 * Escaping keeps every segment a legal, non-special file name: '%' and characters that some
 * filesystems or shells mangle are percent-encoded, an empty segment ('a//b', 'folder/') becomes '%',
 * which percent-encoding can never produce on its own. Object files get no suffix, so an object 'a'
 * and an object 'a/b' cannot both exist here (OSS allows it; a local store for development refuses it
 * with a clear error rather than inventing a layout nobody can browse).
 */
function escapeSegment(segment: string): string {
  if (segment === '') return '%';
  return segment.replace(/[%\\:*?"<>|\x00-\x1f\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function unescapeSegment(name: string): string {
  return name === '%' ? '' : name.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

interface MetaRecord {
  key: string;
  size: number;
  etag: string;
  contentType?: string;
  cacheControl?: string;
  lastModified: string;
  meta: Record<string, string>;
  /**
   * The mtime of the object file this record describes. A file whose size or mtime differs gets its record
   * derived again: one replaced by hand, or one a put wrote before it stopped (a crash) without writing
   * the record that goes with it, so its bytes are never served under the previous object's ETag.
   * Absent only in records written before it existed, which are trusted as they are.
   */
  fileMtimeMs?: number;
}

/** What `FsStorage.putStream` hands its `accept` check once the whole body is on disk. */
export interface StreamedBody {
  readonly size: number;
  /** MD5 of the body (raw bytes): the ETag's and Content-MD5's digest. */
  readonly md5: Buffer;
}

export interface FsStorage extends Storage {
  readonly root: string;
  /** Keys in OSS order under `prefix` after `startAfter`, read a folder at a time (listings, the local server). */
  listKeys(options?: { readonly prefix?: string; readonly startAfter?: string }): AsyncGenerator<string>;
  /** Folders and folder entries the listings read so far (what a page costs). */
  readonly listStats: { folders: number; entries: number };
  /**
   * Stream an object in: the chunks go to a temporary file on the storage's filesystem, their MD5
   * computed on the way; `accept` then sees the size and digest and may throw to refuse the body.
   * Only a complete, accepted body is renamed into place (then its record written): when the chunks
   * fail (a client gone mid-body, a cap), `accept` throws or the key conflicts, the temporary file is
   * removed and the object is as it was. Memory holds one chunk at a time.
   */
  putStream(key: string, chunks: AsyncIterable<Uint8Array>, options?: PutOptions & { readonly accept?: (body: StreamedBody) => void }): Promise<{ readonly etag: string; readonly size: number }>;
  delete(key: string): Promise<void>;
  /** The absolute file path an object's bytes live at (after the traversal checks). */
  pathOf(key: string): string;
}

/**
 * A bucket in a directory: `<root>/<bucket>/<key segments>` holds the bytes, and
 * `<root>/.meta/<bucket>/<key segments>.json` the headers and user metadata (bucket names cannot
 * start with '.', so the metadata tree can never collide with a bucket).
 *
 * A file copied into `<root>/<bucket>/` by hand (no metadata record) is an object too, so a folder of
 * photos can be served as it is: on its first read its record is derived (ETag the MD5 of its bytes
 * as OSS computes it for a simple upload, content type sniffed from its magic bytes, Last-Modified
 * its mtime) and kept beside the others; a file changed since is derived again. Names starting
 * with '.' (`.DS_Store`) are not objects unless they were put.
 */
export function createFsStorage(options: { root: string; bucket: string }): FsStorage {
  checkBucketName(options.bucket);
  const root = resolve(options.root);
  const bucketRoot = join(root, options.bucket);
  const metaRoot = join(root, '.meta', options.bucket);
  const tmpRoot = join(root, '.tmp');

  const relPath = (key: string): string => {
    checkObjectKey(key);
    return key.split('/').map(escapeSegment).join(sep);
  };
  const pathOf = (key: string): string => {
    const p = join(bucketRoot, relPath(key));
    // Belt and braces: whatever the escaping does, the result must stay inside the bucket directory.
    if (!p.startsWith(bucketRoot + sep)) throw new ImgpipeError('ACCESS_DENIED', `Refused key ${describeValue(key)}: it resolves outside the storage root`);
    return p;
  };
  const metaPathOf = (key: string): string => `${join(metaRoot, relPath(key))}.json`;

  // Records already read, reused while the files that decide them stat the same (inode, size, mtime):
  // the record file and the object's file (a put, a delete or a change by hand replaces one of them);
  // for a record from before `fileMtimeMs`, its record file alone. A HEAD (a served request makes two
  // or three) then costs two stats instead of reading and parsing JSON.
  const metaCache = new Map<string, { readonly record: MetaRecord; readonly stamp: string }>();
  const stampOf = (s: Stats | undefined) => (s ? `${s.ino}:${s.size}:${s.mtimeMs}` : '-');
  // Synchronous: a stat of a local file is a few microseconds of the calling thread, where the
  // promise API's round trip through libuv's thread pool cost about 50-120 us of CPU for the pair,
  // and every served request makes one or two such checks.
  const stamps = (key: string, withFile: boolean) => {
    const recordStat = statOrNone(metaPathOf(key));
    const fileStat = withFile ? statOrNone(pathOf(key)) : undefined;
    return { record: stampOf(recordStat), both: `${stampOf(recordStat)}|${stampOf(fileStat)}` };
  };

  const readRecord = async (key: string): Promise<MetaRecord | undefined> => {
    try {
      return JSON.parse(await readFile(metaPathOf(key), 'utf8')) as MetaRecord;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw storageError(`read metadata of ${describeValue(key)}`, e);
    }
  };
  /** The object's record: the one `put` wrote, or one derived from a file placed by hand (see above). */
  const readMeta = async (key: string): Promise<MetaRecord | undefined> => {
    const cached = metaCache.get(key);
    if (cached) {
      const tied = cached.record.fileMtimeMs !== undefined;
      const now = stamps(key, tied);
      if ((tied ? now.both : now.record) === cached.stamp) return cached.record;
      metaCache.delete(key);
    }
    // Stat'ed before the read, so a change in between only makes the next read miss.
    const before = stamps(key, true);
    const record = await readMetaUncached(key);
    const stamp = record && (record.fileMtimeMs === undefined ? before.record : before.both);
    // A record file missing (a derived record that could not be kept) is read afresh each time.
    if (record && stamp !== undefined && !stamp.startsWith('-')) {
      if (metaCache.size >= META_CACHE_ENTRIES) metaCache.clear();
      metaCache.set(key, { record, stamp });
    }
    return record;
  };
  const readMetaUncached = async (key: string): Promise<MetaRecord | undefined> => {
    const record = await readRecord(key);
    if (record && record.fileMtimeMs === undefined) return record;
    const file = await stat(pathOf(key)).catch(() => undefined);
    if (!file?.isFile() || (!record && key.split('/').some((segment) => segment.startsWith('.')))) return undefined;
    if (record && record.size === file.size && record.fileMtimeMs === file.mtimeMs) return record;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(pathOf(key)));
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw storageError(`read ${describeValue(key)}`, e);
    }
    const format = sniffFormat(bytes);
    const derived: MetaRecord = {
      key, size: bytes.byteLength, etag: md5Etag(bytes), contentType: format ? FORMATS[format].mime : 'application/octet-stream',
      lastModified: file.mtime.toISOString(), meta: {}, fileMtimeMs: file.mtimeMs,
    };
    // Kept so the next read does not hash the file again; a failure to keep it costs only that.
    await atomicWrite(metaPathOf(key), JSON.stringify(derived)).catch(() => undefined);
    return derived;
  };
  const toInfo = (m: MetaRecord): ObjectInfo =>
    Object.freeze({
      key: m.key,
      size: m.size,
      etag: m.etag,
      contentType: m.contentType,
      cacheControl: m.cacheControl,
      lastModified: new Date(m.lastModified),
      meta: Object.freeze({ ...m.meta }),
    });

  // Writes go to a temporary file and are renamed into place, so a reader never sees half an object.
  const atomicWrite = async (path: string, data: Uint8Array | string): Promise<void> => {
    await mkdir(dirname(path), { recursive: true });
    await mkdir(tmpRoot, { recursive: true });
    const tmp = join(tmpRoot, randomUUID());
    await writeFile(tmp, data);
    await rename(tmp, path);
  };

  const storage: FsStorage = {
    bucket: options.bucket,
    root,
    pathOf,
    async get(key, opts = {}) {
      // One record read (two stats when it is kept parsed) decides the size bound and the ETag match.
      const info = await storage.head(key);
      if (!info) throw noSuchObject(options.bucket, key);
      const tooLarge = (size: number) => opts.maxBytes !== undefined && byteLimitError(size, opts.maxBytes, key);
      const over = tooLarge(info.size);
      if (over) throw over;
      if (opts.ifNoneMatch !== undefined && normalizeEtag(opts.ifNoneMatch) === info.etag) return notModified(info);
      let read: Buffer;
      try {
        read = await readFile(pathOf(key));
      } catch (e) {
        if (isMissing(e)) throw noSuchObject(options.bucket, key);
        throw storageError(`read ${describeValue(key)}`, e);
      }
      // A file changed by hand since its record was read may be larger than the record said.
      const grown = tooLarge(read.byteLength);
      if (grown) throw grown;
      // readFile's Buffer owns its whole ArrayBuffer: viewed, not copied, and free to move to a worker.
      return Object.freeze({ ...info, bytes: new Uint8Array(read.buffer, read.byteOffset, read.byteLength), transferable: true });
    },
    async head(key) {
      const m = await readMeta(key);
      return m ? toInfo(m) : undefined;
    },
    async put(key, bytes, opts = {}) {
      const path = pathOf(key);
      const etag = md5Etag(bytes);
      const record: MetaRecord = {
        key,
        size: bytes.byteLength,
        etag,
        contentType: opts.contentType,
        cacheControl: opts.cacheControl,
        lastModified: new Date().toISOString(),
        meta: Object.fromEntries(Object.entries(opts.meta ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      };
      try {
        await atomicWrite(path, bytes);
        record.fileMtimeMs = (await stat(path)).mtimeMs;
        await atomicWrite(metaPathOf(key), JSON.stringify(record));
      } catch (e) {
        if (isConflict(e)) throw new KeyConflictError(key, e);
        throw storageError(`write ${describeValue(key)}`, e);
      }
      return { etag };
    },
    async putStream(key, chunks, opts = {}) {
      const path = pathOf(key);
      const metaPath = metaPathOf(key);
      await mkdir(tmpRoot, { recursive: true });
      const tmp = join(tmpRoot, randomUUID());
      try {
        const md5 = createHash('md5');
        let size = 0;
        const file = await open(tmp, 'w');
        try {
          // One chunk at a time: the next is read only once this one is written.
          for await (const chunk of chunks) {
            md5.update(chunk);
            size += chunk.byteLength;
            await file.write(chunk);
          }
        } finally {
          await file.close();
        }
        const digest = md5.digest();
        opts.accept?.({ size, md5: digest });
        const etag = digest.toString('hex').toUpperCase();
        const record: MetaRecord = {
          key, size, etag, contentType: opts.contentType, cacheControl: opts.cacheControl, lastModified: new Date().toISOString(),
          meta: Object.fromEntries(Object.entries(opts.meta ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        };
        // Both folders first: a key that conflicts in either tree is refused before any byte lands,
        // and the folders this put made are removed again (they hold nothing else yet).
        const made: string[] = [];
        try {
          for (const dir of [dirname(path), dirname(metaPath)]) {
            const first = await mkdir(dir, { recursive: true });
            if (first) made.push(first);
          }
          await rename(tmp, path);
          record.fileMtimeMs = (await stat(path)).mtimeMs;
          await atomicWrite(metaPath, JSON.stringify(record));
        } catch (e) {
          if (!isConflict(e)) throw storageError(`write ${describeValue(key)}`, e);
          for (const dir of made) await rm(dir, { recursive: true, force: true });
          throw new KeyConflictError(key, e);
        }
        return { etag, size };
      } finally {
        await rm(tmp, { force: true });
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
      await rm(metaPathOf(key), { force: true });
      // Prune now-empty folders so the tree mirrors what exists.
      for (const base of [bucketRoot, metaRoot]) {
        let dir = dirname(base === bucketRoot ? pathOf(key) : metaPathOf(key));
        while (dir.startsWith(base + sep)) {
          try {
            await rmdir(dir);
          } catch {
            break;
          }
          dir = dirname(dir);
        }
      }
    },
    listKeys: (opts = {}) => sortedKeys(bucketRoot, metaRoot, (k) => join(bucketRoot, relPath(k)), opts.prefix ?? '', opts.startAfter, storage.listStats),
    listStats: { folders: 0, entries: 0 },
    async list(opts = {}) {
      const maxKeys = opts.maxKeys ?? 1000;
      if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) {
        throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and 1000 for maxKeys but received ${describeValue(opts.maxKeys)}`);
      }
      const objects = [];
      let truncated = false;
      for await (const k of storage.listKeys({ prefix: opts.prefix, startAfter: opts.startAfter })) {
        if (objects.length === maxKeys) {
          truncated = true;
          break;
        }
        const m = await readMeta(k);
        if (m) objects.push(Object.freeze({ key: m.key, size: m.size, etag: m.etag, lastModified: new Date(m.lastModified) }));
      }
      return Object.freeze({ objects, nextStartAfter: truncated ? objects[objects.length - 1].key : undefined });
    },
  };
  return Object.freeze(storage);
}

/** A UTF-16 unit's rank in code point order: surrogates (code points above U+FFFF) after U+E000-U+FFFF. */
const rank = (c: number): number => (c >= 0xd800 && c <= 0xdfff ? c + 0x2000 : c >= 0xe000 ? c - 0x800 : c);

/** OSS lists keys in UTF-8 byte order, which is code point order: compared here without encoding. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** A folder's entries, none for a folder that does not exist. */
async function entriesOf(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (isMissing(e)) return [];
    throw storageError('list objects', e);
  }
}

/**
 * The bucket's keys under `prefix` after `startAfter`, in OSS order, from the metadata tree (objects
 * that were put) and the bytes tree (files placed by hand), walked together one folder at a time.
 * A folder's keys all start with `name/`, so sorting each folder's entries as `name/` (folders) and
 * `name` (objects) gives the global order; folders wholly before `startAfter` or outside `prefix`
 * are never opened. A page therefore reads the folders on its way, not the bucket: ListObjectsV2
 * over n keys costs O(n), where walking everything for every page cost O(n^2 / page).
 */
async function* sortedKeys(bucketRoot: string, metaRoot: string, pathOf: (key: string) => string, prefix: string, startAfter: string | undefined, stats: { folders: number; entries: number }): AsyncGenerator<string> {
  async function* walkDir(rel: string[], keyPrefix: string): AsyncGenerator<string> {
    const entries = new Map<string, { key: string; folder: boolean; rel: string; placed: boolean }>();
    const [meta, bytes] = await Promise.all([entriesOf(join(metaRoot, ...rel)), entriesOf(join(bucketRoot, ...rel))]);
    stats.folders++;
    stats.entries += meta.length + bytes.length;
    for (const e of meta) {
      if (e.isDirectory()) {
        const key = `${keyPrefix}${unescapeSegment(e.name)}/`;
        entries.set(key, { key, folder: true, rel: e.name, placed: false });
      } else if (e.name.endsWith('.json')) {
        const key = keyPrefix + unescapeSegment(e.name.slice(0, -'.json'.length));
        entries.set(key, { key, folder: false, rel: e.name, placed: false });
      }
    }
    for (const e of bytes) {
      if (e.name.startsWith('.')) continue;
      const folder = e.isDirectory();
      if (!folder && !e.isFile()) continue;
      const key = `${keyPrefix}${unescapeSegment(e.name)}${folder ? '/' : ''}`;
      if (!entries.has(key)) entries.set(key, { key, folder, rel: e.name, placed: !folder });
    }
    const sorted = [...entries.values()].sort((a, b) => compareKeys(a.key, b.key));
    for (const e of sorted) {
      if (e.folder) {
        if (!e.key.startsWith(prefix) && !prefix.startsWith(e.key)) continue;
        if (startAfter !== undefined && !startAfter.startsWith(e.key) && compareKeys(e.key, startAfter) < 0) continue;
        yield* walkDir([...rel, e.rel], e.key);
      } else {
        if (!e.key.startsWith(prefix) || (startAfter !== undefined && compareKeys(e.key, startAfter) <= 0)) continue;
        // A file placed by hand is an object only if its name maps back to the same file.
        if (e.placed && (objectKeyProblem(e.key) !== undefined || pathOf(e.key) !== join(bucketRoot, ...rel, e.rel))) continue;
        yield e.key;
      }
    }
  }
  yield* walkDir([], '');
}

/** A file's stat, or undefined for a file that is not there or can't be stat'ed (as a missing one). */
function statOrNone(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function isCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

/** Object records an FsStorage keeps parsed (see readMeta); past this many it starts over. */
const META_CACHE_ENTRIES = 10_000;

function isMissing(e: unknown): boolean {
  return isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR');
}

/**
 * A key the local store cannot hold beside an existing one ("a" and "a/b", or "c" and "c.json/x" in
 * the metadata tree). INVALID_ARGUMENT for callers that branch on codes; `isKeyConflict` tells it
 * from other refusals without reading the message.
 */
export class KeyConflictError extends ImgpipeError {
  constructor(key: string, cause: unknown) {
    super('INVALID_ARGUMENT', `Key ${describeValue(key)} conflicts with an existing key: the local store keeps keys as nested folders, so a key and a key under it as a folder ("a" and "a/b") cannot both exist`, { cause, details: { key, reason: KEY_CONFLICT } });
  }
}
const KEY_CONFLICT = 'key-conflict';

/** True for a KeyConflictError (also from another bundle's copy of this module). */
export function isKeyConflict(e: unknown): e is KeyConflictError {
  return e instanceof KeyConflictError || (isImgpipeError(e, 'INVALID_ARGUMENT') && e.details?.reason === KEY_CONFLICT);
}

/** A filesystem error that means a key and a folder of keys collide. */
const isConflict = (e: unknown): boolean => isCode(e, 'ENOTDIR') || isCode(e, 'EISDIR') || isCode(e, 'EEXIST');

function storageError(what: string, cause: unknown): ImgpipeError {
  return new ImgpipeError('STORAGE_ERROR', `Could not ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
