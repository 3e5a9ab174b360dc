/**
 * What the FC layer's `require('imgpipe')` gives (bundled by `npm run build:fc` into
 * nodejs/node_modules/imgpipe/index.js, WASM in wasm/ beside it): the whole Node API, the Function
 * Compute upload handler factory and the x-oss-process HTTP handler, so functions sharing the layer
 * ship only their own few lines.
 */
export * from 'imgpipe';
export * from 'imgpipe/fc';
export { createFetchHandler, type HandlerOptions, type FetchHandler, fetchSource, storageSource, type ImageSource } from 'imgpipe/http';
export { createOssStorage, createOssStorageFactory } from 'imgpipe/oss';
