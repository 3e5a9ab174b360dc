/**
 * The deployable Function Compute function (bundled by `npm run build:fc` into a single `index.js`
 * beside `wasm/`): the upload recipe on OSS-trigger or EventBridge events. Settings come from the
 * function's environment variables, so one artifact serves any bucket layout:
 *
 *   IMGPIPE_SOURCE_PREFIX   only keys under this prefix are processed (e.g. `uploads/`)
 *   IMGPIPE_TARGET_BUCKET   write variants to another bucket (default: the source bucket)
 *   IMGPIPE_OSS_ENDPOINT    override the OSS endpoint (default: the region's, internal when in-region)
 *   IMGPIPE_THREADS         encode on this many worker threads (set it to the function's vCPUs when
 *                           that is 2 or more; default 1: encodes run in the handler's own thread)
 *
 * Layers it picks up when attached: imgpipe-heic (iPhone HEIC uploads), imgpipe-avif, imgpipe-lcms2.
 *
 * Handler `index.handler` (event triggers), `index.httpHandler` (HTTP trigger delivering
 * CloudEvents), initializer `index.initialize` (compiles the WASM before the first event).
 */
import { isMainThread } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { createUploadHandler } from 'imgpipe/fc';
import { createWorkerPool, serveEncodes, MAX_POOL_THREADS, ImgpipeError, describeValue } from 'imgpipe';

const env = process.env;

// The opt-in plug-ins' layers (imgpipe-heic-layer.zip, imgpipe-avif-layer.zip; FC puts a layer's
// nodejs/node_modules on NODE_PATH): attaching one is all it takes. Without the HEIC layer an iPhone's
// upload is a permanent failure whose error says how to enable it.
for (const layer of ['imgpipe-heic', 'imgpipe-avif']) loadLayer(layer);

// The function is one bundled file, so it is also its own pool worker script: started as a worker,
// it only answers encode tasks.
if (!isMainThread) serveEncodes();

const threads = threadsSetting(env.IMGPIPE_THREADS);
const pool = isMainThread && threads !== 1 ? createWorkerPool({ threads, workerUrl: new URL(import.meta.url) }) : undefined;

const upload = createUploadHandler({
  sourcePrefix: env.IMGPIPE_SOURCE_PREFIX || undefined,
  targetBucket: env.IMGPIPE_TARGET_BUCKET || undefined,
  encoder: pool?.encode,
  decodeHelper: pool?.decodeHelper,
});

export const handler = upload.handler;
export const httpHandler = upload.httpHandler;
export const initialize = upload.initialize;

/** Loads an optional layer's package; only its absence is ignored (a broken layer fails the start-up). */
function loadLayer(name: string): void {
  try {
    createRequire(import.meta.url)(name);
  } catch (e) {
    const missing = (e as { code?: string }).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(`'${name}'`);
    if (!missing) throw e;
  }
}

/** IMGPIPE_THREADS, checked at start-up so a typo fails the deployment, not the first upload. */
function threadsSetting(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_POOL_THREADS) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and ${MAX_POOL_THREADS} for IMGPIPE_THREADS but received ${describeValue(value)}`);
  }
  return Number(value);
}
