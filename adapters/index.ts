/**
 * `imgpipe/adapters` (Node): everything that knows about a cloud, in one import. The same modules are
 * also their own subpaths: `imgpipe/http` and `imgpipe/events` (runtime-neutral), `imgpipe/oss` and
 * `imgpipe/fc` (Node). Here besides: the local OSS-compatible server and Node's HTTP listener.
 */
export * from './fc/index.js';
export * from './oss/index.js';
export * from './events/index.js';
export * from './http/index.js';
export { startLocalOss, type LocalOss, type LocalOssOptions, type Faults, type NotifyOptions, type Invocation } from './local-oss/server.js';
export { createNodeListener } from './http/node.js';
