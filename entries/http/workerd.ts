/**
 * `imgpipe/http` in workerd (Cloudflare-style Workers): the runtime-neutral HTTP handler (adapters/http/), with this runtime's
 * way of obtaining the WASM registered by importing its core entry, so `createFetchHandler` works
 * without importing `imgpipe` as well.
 */
import '../workerd.js';

export * from '../../adapters/http/index.js';
