/**
 * What the FC layer's `require('imgpipe')` gives (bundled by `npm run build:fc` into
 * nodejs/node_modules/imgpipe/index.js, WASM in wasm/ beside it): the whole Node API, the Function
 * Compute upload handler factory and the x-oss-process HTTP handler, so functions sharing the layer
 * ship only their own few lines.
 */
export * from '../../entries/node.js';
export * from '../../adapters/fc/index.js';
export { createFetchHandler, type HandlerOptions, type FetchHandler } from '../../adapters/http/handler.js';
export { createFcHttpHandler } from '../../adapters/http/fc.js';
export { fetchSource, storageSource, type ImageSource } from '../../adapters/http/source.js';
export { createOssStorage, createOssStorageFactory } from '../../adapters/oss/index.js';
