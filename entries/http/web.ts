/**
 * `imgpipe/http` in browsers and Web Workers: the runtime-neutral HTTP handler (adapters/http/), with this runtime's
 * way of obtaining the WASM registered by importing its core entry, so `createFetchHandler` works
 * without importing `imgpipe` as well.
 */
import '../web.js';

export * from '../../adapters/http/index.js';
