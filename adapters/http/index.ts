/**
 * `imgpipe/http`: x-oss-process over HTTP in any runtime with fetch's `Request` and `Response`
 * (workerd, browsers and Web Workers, Node 18+): the request handler, where sources come from, and
 * URL signing. Runtime-neutral: no Node built-ins, no ali-oss. The package's `imgpipe/http` entries
 * (entries/http/) add how each runtime obtains the WASM; Node's listener and the Function Compute
 * HTTP trigger live in `imgpipe/adapters` and `imgpipe/fc`.
 */
export { createFetchHandler, errorResponse, OSS_STATUS, type FetchHandler, type HandlerOptions, type TransformRunner } from './handler.js';
export { fetchSource, storageSource, type ImageSource, type SourceObject, type SourceGetOptions, type FetchSourceOptions, type StorageSourceOptions } from './source.js';
export { signProcess, verifyProcess, SIGNATURE_PARAM, EXPIRES_PARAM } from './sign.js';
