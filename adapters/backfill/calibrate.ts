/**
 * The local estimate, measured rather than modelled: run the recipe on a small deterministic sample
 * of the planned objects, on this machine, the way `run --local` runs it (the same upload handler,
 * the worker pool on every core, as many objects at once as `run --local` has chunks in flight), with
 * every write discarded so `plan` still writes nothing. Each object's time is its share of the
 * measured wall time; per kind (by extension) that gives seconds per source megapixel and megapixels
 * per object, and the job's objects of each kind extrapolate to its wall time, plus the measured
 * start-up (pool and WASM compile) once.
 *
 * Why not the per-megapixel model: it is one thread's CPU time for the recipe's decode, resizes and
 * encodes on an idle machine. A run also pays the storage round trips (a GET, six PUTs, HEADs, the
 * manifest), the pool's start-up, the decoders of PNG, WebP and GIF (slower per megapixel than
 * JPEG's shrink-on-load), two objects' work sharing two cores imperfectly, and whatever else the
 * machine is doing; 27 s estimated against 683 s measured on a machine at load 25 was all of these.
 * A calibration measures them instead of listing them.
 */
import { readHeader } from '../../src/index.js';
import type { Recipe } from '../../src/index.js';
import { createWorkerPool } from '../../entries/node.js';
import { createUploadHandler } from '../fc/handler.js';
import type { OssCredentials } from '../oss/credentials.js';
import { md5Etag, type Storage } from '../storage.js';
import type { SourceObject } from './source.js';

/** The kind an object is estimated as: its extension's format, as the plan sees it. */
export function kindOf(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return ext === 'jpg' || ext === 'jpe' || ext === 'jpeg' ? 'jpeg' : ext === 'heif' ? 'heic' : ext === 'tif' ? 'tiff' : ext;
}

export interface KindRate {
  readonly objects: number;
  readonly bytes: number;
  readonly megapixels: number;
  /** This kind's share of the measured wall time. */
  readonly seconds: number;
  readonly secondsPerMegapixel: number;
  readonly megapixelsPerObject: number;
}

export interface Calibration {
  readonly objects: number;
  /** Objects in flight at once (as `run --local`). */
  readonly concurrency: number;
  readonly threads: number;
  /** Pool start-up and WASM compile, once per run. */
  readonly startupSeconds: number;
  /** Wall time of the sample, start-up excluded. */
  readonly seconds: number;
  readonly bytes: number;
  readonly kinds: Readonly<Record<string, KindRate>>;
}

export interface CalibrateOptions {
  readonly sample: readonly SourceObject[];
  readonly recipe: Recipe;
  readonly manifestKey: string;
  readonly sourceBucket: string;
  readonly sourcePrefix: string;
  readonly source: Storage;
  readonly target: Storage;
  readonly threads: number;
  readonly credentials: OssCredentials;
}

/** Writes go nowhere: the handler runs exactly as in a run, and the target is left as it was. */
function discardingWrites(s: Storage): Storage {
  return { bucket: s.bucket, get: (k) => s.get(k), head: (k) => s.head(k), list: (o) => s.list(o), put: async (_k, bytes) => ({ etag: md5Etag(bytes) }) };
}

export async function calibrate(options: CalibrateOptions): Promise<Calibration> {
  const t0 = performance.now();
  const pool = options.threads > 1 ? createWorkerPool({ threads: options.threads }) : undefined;
  try {
    const target = discardingWrites(options.target);
    const upload = createUploadHandler({
      sourceBucket: options.sourceBucket, targetBucket: options.target.bucket, sourcePrefix: options.sourcePrefix,
      recipe: options.recipe, manifestKey: options.manifestKey, encoder: pool?.encode, decodeHelper: pool?.decodeHelper, log: () => undefined, env: {},
      storage: (bucket) => (bucket === options.target.bucket ? target : options.source),
    });
    await upload.initialize();
    const startupSeconds = (performance.now() - t0) / 1000;
    // Megapixels from each object's header (read before the clock starts).
    const mp = new Map<SourceObject, number>();
    for (const o of options.sample) {
      try {
        const h = readHeader((await options.source.get(o.key)).bytes);
        mp.set(o, (h.width * h.height) / 1e6);
      } catch {
        mp.set(o, 0);
      }
    }
    const latency = new Map<SourceObject, number>();
    const concurrency = Math.max(1, options.threads);
    const run = (o: SourceObject, id: string) => {
      const event = { invocationSchemaVersion: '1.0', invocationId: `calibrate-${id}`, tasks: [{ taskId: '0', ossBucket: o.bucket, ossKey: o.key, ossETag: o.etag, size: o.size }] };
      return upload.handler(Buffer.from(JSON.stringify(event)), { requestId: 'calibrate', credentials: { ...options.credentials } }).catch(() => undefined);
    };
    // One untimed object first: a long run's later objects run on tiered-up code, not on the first compile.
    if (options.sample.length > 0) await run(options.sample[0], 'warm-up');
    const t1 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(concurrency, options.sample.length) }, async () => {
      while (next < options.sample.length) {
        const o = options.sample[next++];
        const start = performance.now();
        await run(o, String(next));
        latency.set(o, performance.now() - start);
      }
    }));
    const wall = (performance.now() - t1) / 1000;
    const totalLatency = [...latency.values()].reduce((a, b) => a + b, 0) || 1;
    const kinds: Record<string, { objects: number; bytes: number; megapixels: number; seconds: number }> = {};
    for (const o of options.sample) {
      const k = (kinds[kindOf(o.key)] ??= { objects: 0, bytes: 0, megapixels: 0, seconds: 0 });
      k.objects++;
      k.bytes += o.size;
      k.megapixels += mp.get(o) ?? 0;
      k.seconds += ((latency.get(o) ?? 0) / totalLatency) * wall;
    }
    return {
      objects: options.sample.length, concurrency, threads: options.threads, startupSeconds, seconds: wall,
      bytes: options.sample.reduce((a, o) => a + o.size, 0),
      kinds: Object.fromEntries(Object.entries(kinds).map(([name, k]) => [name, {
        ...k,
        secondsPerMegapixel: k.megapixels > 0 ? k.seconds / k.megapixels : 0,
        megapixelsPerObject: k.megapixels / k.objects,
      }])),
    };
  } finally {
    await pool?.close();
  }
}

/**
 * `run --local`'s wall time for the planned objects of each kind: objects x the sampled megapixels
 * per object x the seconds per megapixel of that kind in the calibration (a kind met fewer than three
 * times takes the whole sample's seconds per object), plus the start-up once. Per object, not per
 * byte: bytes per megapixel differ several times between a PNG and a JPEG, and between two JPEGs.
 */
export function extrapolate(c: Calibration, objectsByKind: Readonly<Record<string, number>>): { seconds: number; byKind: Record<string, number> } {
  const overall = c.seconds / Math.max(1, c.objects);
  const byKind: Record<string, number> = {};
  let seconds = c.startupSeconds;
  for (const [kind, objects] of Object.entries(objectsByKind)) {
    const k = c.kinds[kind];
    byKind[kind] = objects * (k && k.objects >= 3 ? k.seconds / k.objects : overall);
    seconds += byKind[kind];
  }
  return { seconds, byKind };
}
