/**
 * The deployable Function Compute function (bundled by `npm run build:fc` into a single `index.js`
 * beside `wasm/`): the upload recipe on OSS-trigger or EventBridge events. Settings come from the
 * function's environment variables, so one artifact serves any bucket layout:
 *
 *   IMGPIPE_SOURCE_PREFIX   only keys under this prefix are processed (e.g. `uploads/`)
 *   IMGPIPE_TARGET_BUCKET   write variants to another bucket (default: the source bucket)
 *   IMGPIPE_OSS_ENDPOINT    override the OSS endpoint (default: the region's, internal when in-region)
 *
 * Handler `index.handler` (event triggers), `index.httpHandler` (HTTP trigger delivering
 * CloudEvents), initializer `index.initialize` (compiles the WASM before the first event).
 */
import { createUploadHandler } from '../../adapters/fc/index.js';

const env = process.env;
const upload = createUploadHandler({
  sourcePrefix: env.IMGPIPE_SOURCE_PREFIX || undefined,
  targetBucket: env.IMGPIPE_TARGET_BUCKET || undefined,
});

export const handler = upload.handler;
export const httpHandler = upload.httpHandler;
export const initialize = upload.initialize;
