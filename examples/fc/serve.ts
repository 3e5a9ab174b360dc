/**
 * The deployable x-oss-process function (bundled by `npm run build:fc` into `.fc-build/serve-function/`
 * beside `wasm/`): an FC 3.0 HTTP trigger answering `GET /<bucket>/<key>?x-oss-process=...` from OSS
 * as OSS's own image processing does, with the transforms on a worker pool and admission control
 * sized from the instance (`createFcHttpHandler`; see "Serving under load" in the README). Settings
 * come from the function's environment variables:
 *
 *   IMGPIPE_BUCKETS          the buckets it may read, comma-separated (required: the allow-list)
 *   IMGPIPE_BUCKET_FROM      `path` (default: /<bucket>/<key> on the trigger's URL) or `host`
 *                            (<bucket>.<your domain>/<key>, as OSS's own domains)
 *   IMGPIPE_OSS_ENDPOINT     override the OSS endpoint (default: the region's, internal)
 *   IMGPIPE_THREADS          transform threads (default: the instance's vCPUs)
 *   IMGPIPE_SOURCE_CACHE_MB  recently read sources kept per bucket, revalidated by ETag (default 64; 0: none)
 *
 * Handler `index.handler`, initializer `index.initialize` (compiles the WASM before the first request).
 * OSS is read with the function role's STS credentials from each invocation's context: they rotate,
 * and a new triple replaces the OSS clients. Layers it picks up when attached: imgpipe-heic,
 * imgpipe-avif, imgpipe-lcms2.
 */
import { isMainThread } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createFcHttpHandler, type FcContext, type FcHttpEvent } from 'imgpipe/fc';
import { storageSource, type ImageSource } from 'imgpipe/http';
import { checkBucketName, createOssStorageFactory, resolveCredentials, type OssCredentials, type Storage, type StorageFactory } from 'imgpipe/oss';
import { createWorkerPool, serveEncodes, init, ImgpipeError, describeValue } from 'imgpipe';
import { loadPluginLayers, threadsSetting } from './settings.js';

const env = process.env;

loadPluginLayers(import.meta.url);

// One bundled file, so it is also its own pool worker script: started as a worker, it only answers tasks.
if (!isMainThread) serveEncodes();

const buckets = bucketsSetting(env.IMGPIPE_BUCKETS);
const bucketFrom = env.IMGPIPE_BUCKET_FROM || 'path';
if (bucketFrom !== 'path' && bucketFrom !== 'host') {
  throw new ImgpipeError('INVALID_ARGUMENT', `Expected path or host for IMGPIPE_BUCKET_FROM but received ${describeValue(bucketFrom)}`);
}
const cacheMb = env.IMGPIPE_SOURCE_CACHE_MB ?? '64';
if (!/^\d+$/.test(cacheMb) || Number(cacheMb) > 4096) {
  throw new ImgpipeError('INVALID_ARGUMENT', `Expected a whole number of MB between 0 and 4096 for IMGPIPE_SOURCE_CACHE_MB but received ${describeValue(cacheMb)}`);
}
const threads = threadsSetting(env.IMGPIPE_THREADS, availableParallelism());

// The invocation's credentials and region, read before each request is handled (FcContext).
let latest: { credentials: OssCredentials; region?: string } | undefined;
// The OSS clients (one per bucket) for one STS triple; a new triple opens new ones.
let opened: { triple: string; open: StorageFactory } | undefined;

/** The OSS client of `bucket` for the latest credentials. */
function client(bucket: string): Storage {
  if (!latest) throw new ImgpipeError('INTERNAL', 'Expected the invocation context to be read before OSS is');
  const { credentials, region } = latest;
  const triple = `${credentials.accessKeyId}\n${credentials.securityToken ?? ''}`;
  if (opened?.triple !== triple) {
    opened = { triple, open: createOssStorageFactory({ credentials, endpoint: env.IMGPIPE_OSS_ENDPOINT, runningInRegion: region }) };
  }
  return opened.open(bucket, undefined);
}

/** A bucket's storage that always uses the current client, so its source cache outlives a rotation. */
function rotating(bucket: string): Storage {
  return {
    bucket,
    get: (key, o) => client(bucket).get(key, o),
    head: (key) => client(bucket).head(key),
    put: (key, bytes, o) => client(bucket).put(key, bytes, o),
    list: (o) => client(bucket).list(o),
  };
}

const sources: Record<string, ImageSource> = Object.fromEntries(
  buckets.map((b) => [b, storageSource(rotating(b), { cacheBytes: Number(cacheMb) * 1024 * 1024 })]),
);
const serve = createFcHttpHandler({
  buckets: sources,
  bucketFrom,
  pool: isMainThread ? createWorkerPool({ threads, workerUrl: new URL(import.meta.url) }) : false,
});

export async function handler(event: Uint8Array | string | FcHttpEvent, context?: FcContext) {
  latest = { credentials: resolveCredentials(context, env), region: context?.region };
  return serve(event, context);
}

export async function initialize(): Promise<void> {
  await init();
}

/** IMGPIPE_BUCKETS: one or more OSS bucket names, comma-separated. */
function bucketsSetting(value: string | undefined): string[] {
  const names = (value ?? '').split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (names.length === 0) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected IMGPIPE_BUCKETS to name the buckets to serve, comma-separated, but received ${describeValue(value ?? '')}`);
  }
  for (const name of names) {
    try {
      checkBucketName(name);
    } catch (e) {
      throw new ImgpipeError('INVALID_ARGUMENT', `${(e as Error).message} (in IMGPIPE_BUCKETS)`);
    }
  }
  return names;
}
