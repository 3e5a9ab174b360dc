/**
 * `imgpipe/adapters`: everything that knows about a cloud. The Function Compute upload handler,
 * the OSS storage port over ali-oss, upload-event parsing and EventBridge pattern matching, the
 * local OSS-compatible server, and x-oss-process over HTTP.
 */
export * from './fc/index.js';
export * from './oss/index.js';
export * from './events/index.js';
export { createFsStorage, type Storage, type StorageFactory, type ObjectInfo, type StoredObject, type PutOptions, type ListOptions, type ListPage, type FsStorage } from './storage.js';
export { startLocalOss, type LocalOss, type LocalOssOptions, type Faults, type NotifyOptions, type Invocation } from './local-oss/server.js';
export { createFetchHandler, errorResponse, OSS_STATUS } from './http/handler.js';
export { createFcHttpHandler, fcEventToRequest } from './http/fc.js';
export { createNodeListener } from './http/node.js';
export { fetchSource, storageSource, type ImageSource } from './http/source.js';
export { signProcess, verifyProcess } from './http/sign.js';
