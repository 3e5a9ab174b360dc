/**
 * Classify every source object against the target bucket: `missing` (no manifest), `stale` (a
 * manifest for another source ETag or another recipe), `up-to-date` (a manifest for this ETag and
 * this recipe, including a recorded permanent failure: running it again would fail the same way),
 * or `skip` (not something the recipe takes: not an image by its key, empty, over the byte limit,
 * an imgpipe output, a key storage refuses).
 *
 * Cost: the target's manifest prefix is listed once (1,000 keys a request) into a set of 52-bit key
 * hashes, and only objects whose manifest exists get a HEAD. A first backfill of a million objects is
 * a listing, not a million HEADs; memory grows with the number of manifests that already exist
 * (about 40 bytes each), never with the source list, which is streamed.
 */
import { formatRows } from '../../src/index.js';
import { readHeader } from '../../src/index.js';
import { DEFAULT_LIMITS } from '../../src/index.js';
import type { Recipe } from '../../src/index.js';
import { isOutputKey, META_RECIPE, META_SOURCE_ETAG, META_STATUS, staticPrefix } from '../fc/loop.js';
import { manifestKey } from '../fc/manifest.js';
import { objectKeyProblem, type Storage } from '../storage.js';
import { kindOf } from './calibrate.js';
import { megapixelsFromBytes } from './estimate.js';
import type { SourceObject } from './source.js';

export type ObjectClass = 'missing' | 'stale' | 'up-to-date' | 'skip';
export const CLASSES: readonly ObjectClass[] = ['missing', 'stale', 'up-to-date', 'skip'];

export interface PlannedObject extends SourceObject {
  readonly class: ObjectClass;
  /** Why: `no-manifest`, `source-changed`, `recipe-changed`, `done`, `recorded-failure`, `not-an-image`, ... */
  readonly reason: string;
}

export interface PlanOptions {
  /** The source, in batches (a listing page, a chunk of an inventory file). */
  readonly objects: AsyncIterable<readonly SourceObject[]>;
  readonly target: Storage;
  readonly recipe: Recipe;
  readonly recipeHash: string;
  /** Manifest key template (default `meta/{name}.json`, as the upload handler's). */
  readonly manifestKey?: string;
  /** The source prefix (narrows the manifest listing). */
  readonly prefix?: string;
  readonly maxBytes?: number;
  /** HEADs in flight (default 32). */
  readonly concurrency?: number;
  /** Objects whose header is sampled for the pixel histogram (default 64; 0 estimates from bytes). */
  readonly sample?: number;
  /** Reads the first bytes of an object (for the sample). */
  readonly readHead?: (bucket: string, key: string, bytes: number) => Promise<Uint8Array>;
  /** Called for every object once classified (order not guaranteed); the plan waits for a promise it returns. */
  readonly onObject?: (o: PlannedObject) => Promise<void> | undefined | void;
}

export interface PlanSummary {
  readonly counts: Record<ObjectClass, number>;
  readonly bytes: Record<ObjectClass, number>;
  readonly reasons: Record<string, number>;
  readonly total: number;
  /** Source megapixels of the objects to process (missing + stale): measured on a sample, or from bytes. */
  readonly megapixels: number;
  readonly megapixelsFrom: 'headers' | 'bytes';
  /** Objects to process by source megapixels (`<1`, `1-4`, `4-12`, `12-24`, `>=24`), scaled from the sample. */
  readonly histogram?: Record<string, number>;
  readonly sampled: number;
  readonly manifestsListed: number;
  readonly heads: number;
  /** Bytes to process by kind (extension's format: jpeg, png, webp, gif, ...). */
  readonly bytesByKind: Record<string, number>;
  /** Objects to process by kind. */
  readonly objectsByKind: Record<string, number>;
  /** The deterministic sample of objects to process (smallest key hashes first). */
  readonly sample: readonly PlannedObject[];
}

/** Extensions of every format the core decodes (every row of the format registry has a decoder). */
const IMAGE_EXTENSIONS = new Set(formatRows().flatMap((f) => f.extensions));

/** 52 bits of FNV-1a over the key's UTF-16 units: a set member costs a number, not a string. */
function keyHash(key: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 7);
  }
  return (h1 >>> 0) * 0x100000 + ((h2 >>> 0) & 0xfffff);
}

/** The reason an object is not for the recipe, or undefined. */
export function skipReason(o: SourceObject, templates: readonly string[], sameBucket: boolean, maxBytes: number): string | undefined {
  // Cheapest first: most objects that are skipped are skipped by their extension.
  const file = o.key.slice(o.key.lastIndexOf('/') + 1);
  const dot = file.lastIndexOf('.');
  if (dot <= 0 || !IMAGE_EXTENSIONS.has(file.slice(dot + 1).toLowerCase())) return 'not-an-image';
  if (objectKeyProblem(o.key) !== undefined) return 'invalid-key';
  if (sameBucket && isOutputKey(o.key, templates)) return 'own-output';
  if (o.size === 0) return 'empty';
  if (o.size > maxBytes) return 'too-large';
  return undefined;
}

const HISTOGRAM = [['<1', 1], ['1-4', 4], ['4-12', 12], ['12-24', 24], ['>=24', Infinity]] as const;

/** Classify every object. Writes nothing anywhere. */
export async function plan(options: PlanOptions): Promise<PlanSummary> {
  const template = options.manifestKey ?? 'meta/{name}.json';
  const templates = [...options.recipe.outputs.map((o) => o.key), template];
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const concurrency = options.concurrency ?? 32;
  const sampleSize = options.sample ?? 64;
  const counts: Record<ObjectClass, number> = { missing: 0, stale: 0, 'up-to-date': 0, skip: 0 };
  const bytes: Record<ObjectClass, number> = { missing: 0, stale: 0, 'up-to-date': 0, skip: 0 };
  const reasons: Record<string, number> = {};
  let total = 0;
  let heads = 0;

  // The manifests that exist, as hashes. `meta/{name}.json` with prefix `uploads/` lists `meta/uploads/`.
  const fixed = staticPrefix(template);
  const listPrefix = template.startsWith(`${fixed}{name}`) ? fixed + (options.prefix ?? '') : fixed;
  const known = new Set<number>();
  let startAfter: string | undefined;
  for (;;) {
    const page = await options.target.list({ prefix: listPrefix, startAfter, maxKeys: 1000 });
    for (const o of page.objects) known.add(keyHash(o.key));
    if (page.nextStartAfter === undefined) break;
    startAfter = page.nextStartAfter;
  }

  // A uniform sample of the objects to process, for their headers and the calibration: the ones with
  // the smallest key hashes, so the same bucket gives the same sample whatever order the listing and
  // the HEADs deliver it in.
  const sample: { o: PlannedObject; h: number }[] = [];
  let sampleMax = -1;
  let todo = 0;
  let todoBytes = 0;
  const bytesByKind: Record<string, number> = {};
  const objectsByKind: Record<string, number> = {};

  const record = (o: PlannedObject): Promise<void> | undefined | void => {
    counts[o.class]++;
    bytes[o.class] += o.size;
    reasons[`${o.class}:${o.reason}`] = (reasons[`${o.class}:${o.reason}`] ?? 0) + 1;
    if (o.class === 'missing' || o.class === 'stale') {
      todo++;
      todoBytes += o.size;
      const kind = kindOf(o.key);
      bytesByKind[kind] = (bytesByKind[kind] ?? 0) + o.size;
      objectsByKind[kind] = (objectsByKind[kind] ?? 0) + 1;
      const h = keyHash(o.key);
      if (sample.length < sampleSize || h < sampleMax) {
        if (sample.length === sampleSize) sample.splice(sample.findIndex((x) => x.h === sampleMax), 1);
        sample.push({ o, h });
        sampleMax = sample.reduce((m, x) => Math.max(m, x.h), -1);
      }
    }
    return options.onObject?.(o);
  };

  /** Without a request when possible: skipped, or no manifest listed. */
  const classifyNow = (o: SourceObject): PlannedObject | string => {
    const skip = skipReason(o, templates, o.bucket === options.target.bucket, maxBytes);
    if (skip !== undefined) return { ...o, class: 'skip', reason: skip };
    const mKey = manifestKey(template, o.key);
    if (!known.has(keyHash(mKey))) return { ...o, class: 'missing', reason: 'no-manifest' };
    return mKey;
  };
  const classifyByHead = async (o: SourceObject, mKey: string): Promise<PlannedObject> => {
    heads++;
    const m = await options.target.head(mKey);
    if (!m) return { ...o, class: 'missing', reason: 'no-manifest' };
    if (m.meta[META_SOURCE_ETAG] !== o.etag) return { ...o, class: 'stale', reason: 'source-changed' };
    if (m.meta[META_RECIPE] !== options.recipeHash) return { ...o, class: 'stale', reason: 'recipe-changed' };
    return { ...o, class: 'up-to-date', reason: m.meta[META_STATUS] === 'failed' ? 'recorded-failure' : 'done' };
  };

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  for await (const batch of options.objects) {
    for (const o of batch) {
      if (failure !== undefined) break;
      total++;
      const now = classifyNow(o);
      if (typeof now !== 'string') {
        const wait = record(now);
        if (wait) await wait;
        continue;
      }
      const p: Promise<void> = classifyByHead(o, now).then(record).catch((e: unknown) => { failure ??= e; }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    if (failure !== undefined) break;
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;

  // Headers of the sample: the first 64 KB hold a JPEG's SOF after any ordinary EXIF block.
  let sampled = 0;
  let sampleMp = 0;
  let sampleBytes = 0;
  const buckets = HISTOGRAM.map(() => 0);
  sample.sort((a, b) => a.h - b.h);
  if (options.readHead && sample.length > 0) {
    for (const { o } of sample) {
      try {
        const h = readHeader(await options.readHead(o.bucket, o.key, 65536));
        const mp = (h.width * h.height) / 1e6;
        sampled++;
        sampleMp += mp;
        sampleBytes += o.size;
        buckets[HISTOGRAM.findIndex(([, max]) => mp < max)]++;
      } catch {
        // Corrupt, truncated or an oversized EXIF block: left out of the sample, it still counts as work.
      }
    }
  }
  const fromHeaders = sampled > 0;
  // Scale by bytes, not by count: a bucket's big files are its big images.
  const megapixels = fromHeaders ? (sampleBytes > 0 ? (sampleMp / sampleBytes) * todoBytes : (sampleMp / sampled) * todo) : megapixelsFromBytes(todoBytes);
  const histogram = fromHeaders ? Object.fromEntries(HISTOGRAM.map(([name], i) => [name, Math.round((buckets[i] / sampled) * todo)])) : undefined;
  return { counts, bytes, reasons, total, megapixels, megapixelsFrom: fromHeaders ? 'headers' : 'bytes', histogram, sampled, manifestsListed: known.size, heads, bytesByKind, objectsByKind, sample: sample.map((x) => x.o) };
}
