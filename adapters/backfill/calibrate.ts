/**
 * The local estimate, measured rather than modelled: run the recipe on a small deterministic sample
 * of the planned objects, on this machine, the way `run --local` runs it (the same upload handler,
 * the worker pool on every core, as many objects at once as `run --local` has chunks in flight), with
 * every write discarded so `plan` still writes nothing. Each object's time is its share of the
 * measured wall time; a least-squares fit over the sample gives a fixed cost per object and a cost
 * per source byte (per kind once a kind has three objects), and the job's exact object count and
 * bytes of each kind extrapolate to its wall time, plus the measured start-up (pool and WASM
 * compile) once.
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
  /** Wall seconds per source byte beyond the fixed per-object cost (the whole sample's slope when fewer than three were sampled). */
  readonly secondsPerByte: number;
}

export interface Calibration {
  readonly objects: number;
  /** Objects in flight at once (as `run --local`). */
  readonly concurrency: number;
  readonly threads: number;
  /** Pool start-up and WASM compile, once per run. */
  readonly startupSeconds: number;
  /** Untimed objects run first, so the timed ones run on tiered-up code as a long run's do. */
  readonly warmUpObjects: number;
  /** Wall time of the sample, start-up and warm-up excluded. */
  readonly seconds: number;
  readonly bytes: number;
  /** Wall seconds every object costs whatever its size (storage round trips, the manifest, scheduling). */
  readonly fixedSeconds: number;
  /** The whole sample's wall seconds per source byte beyond the fixed cost. */
  readonly secondsPerByte: number;
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
  /** Stop timing new objects after this many seconds (default 20): a bucket of 50 MP photos still plans quickly. */
  readonly budgetSeconds?: number;
  /** Untimed work first, at least this long (default 10). */
  readonly warmUpSeconds?: number;
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
    // Untimed work first, every lane busy, for ten seconds: each pool worker compiles its own WASM,
    // V8 tiers hot JavaScript and WASM up only after they have run a while, and the heap settles.
    // Timed after one untimed object, 16 objects priced a 1,893-object run 1.26x too high; after three
    // seconds of warm-up, the same 36 objects still ran 1.2x slower per object than in a long pass.
    const warmUntil = performance.now() + (options.warmUpSeconds ?? 10) * 1000;
    let warmUpObjects = 0;
    await Promise.all(Array.from({ length: Math.min(concurrency, options.sample.length) }, async (_, lane) => {
      for (let i = lane; warmUpObjects < 2 * concurrency || performance.now() < warmUntil; i += concurrency) {
        warmUpObjects++;
        await run(options.sample[i % options.sample.length], `warm-up-${i}`);
      }
    }));
    const budgetMs = (options.budgetSeconds ?? 20) * 1000;
    const t1 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(concurrency, options.sample.length) }, async () => {
      while (next < options.sample.length && performance.now() - t1 < budgetMs) {
        const o = options.sample[next++];
        const start = performance.now();
        await run(o, String(next));
        latency.set(o, performance.now() - start);
      }
    }));
    const wall = (performance.now() - t1) / 1000;
    const timed = options.sample.filter((o) => latency.has(o));
    const totalLatency = [...latency.values()].reduce((a, b) => a + b, 0) || 1;
    // Each object's share of the wall time: with two in flight, a latency is not a wall-clock cost.
    const points = timed.map((o) => ({ kind: kindOf(o.key), bytes: o.size, mp: mp.get(o) ?? 0, seconds: (latency.get(o)! / totalLatency) * wall }));
    const fit = fitFixedPlusPerByte(points);
    const kinds: Record<string, { objects: number; bytes: number; megapixels: number; seconds: number }> = {};
    for (const p of points) {
      const k = (kinds[p.kind] ??= { objects: 0, bytes: 0, megapixels: 0, seconds: 0 });
      k.objects++;
      k.bytes += p.bytes;
      k.megapixels += p.mp;
      k.seconds += p.seconds;
    }
    return {
      objects: timed.length, concurrency, threads: options.threads, startupSeconds, warmUpObjects, seconds: wall,
      bytes: timed.reduce((a, o) => a + o.size, 0), fixedSeconds: fit.fixed, secondsPerByte: fit.perByte,
      kinds: Object.fromEntries(Object.entries(kinds).map(([name, k]) => [name, {
        ...k,
        // A kind's own slope once it has three points: a PNG byte and a JPEG byte cost different time.
        secondsPerByte: k.objects >= 3 && k.bytes > 0 ? Math.max(0, k.seconds - k.objects * fit.fixed) / k.bytes : fit.perByte,
      }])),
    };
  } finally {
    await pool?.close();
  }
}

/**
 * Least squares `seconds = fixed + perByte x bytes` over the sample, both kept non-negative. Bytes,
 * not megapixels: the plan knows every object's size exactly but only a sample's dimensions, and
 * within a kind the work grows with the bytes. The fixed part matters: a sample of mostly small
 * objects priced per byte alone would make small objects look free and big ones dear.
 */
export function fitFixedPlusPerByte(points: readonly { bytes: number; seconds: number }[]): { fixed: number; perByte: number } {
  const n = points.length;
  if (n === 0) return { fixed: 0, perByte: 0 };
  const mx = points.reduce((a, p) => a + p.bytes, 0) / n;
  const my = points.reduce((a, p) => a + p.seconds, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.bytes - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.bytes - mx) * (p.seconds - my), 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  const fixed = my - slope * mx;
  if (slope <= 0) return { fixed: my, perByte: 0 };
  if (fixed < 0) return { fixed: 0, perByte: mx > 0 ? my / mx : 0 };
  return { fixed, perByte: slope };
}

/**
 * `run --local`'s wall time for the planned objects: each kind's objects x the fixed cost plus its
 * bytes x the kind's seconds per byte, plus the start-up once. The plan knows both sums exactly,
 * so the sample only has to get the two rates right, not the mix of sizes.
 */
export function extrapolate(c: Calibration, objectsByKind: Readonly<Record<string, number>>, bytesByKind: Readonly<Record<string, number>>): { seconds: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  let seconds = c.startupSeconds;
  for (const [kind, objects] of Object.entries(objectsByKind)) {
    byKind[kind] = objects * c.fixedSeconds + (bytesByKind[kind] ?? 0) * (c.kinds[kind]?.secondsPerByte ?? c.secondsPerByte);
    seconds += byKind[kind];
  }
  return { seconds, byKind };
}
