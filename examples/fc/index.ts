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
import { createUploadHandler } from 'imgpipe/fc';
import { createWorkerPool, serveEncodes } from 'imgpipe';
import { loadPluginLayers, threadsSetting } from './settings.js';

const env = process.env;

loadPluginLayers(import.meta.url);

// The function is one bundled file, so it is also its own pool worker script: started as a worker,
// it only answers encode tasks.
if (!isMainThread) serveEncodes();

const threads = threadsSetting(env.IMGPIPE_THREADS, 1);
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
