/**
 * `imgpipe/oss` (Node): OSS behind the storage port (ali-oss), its credentials and its retry policy,
 * and the port itself with its local-filesystem implementation.
 */
export { createOssStorage, createOssStorageFactory, type OssStorageOptions, type OssStorageFactoryOptions } from './storage.js';
export { resolveCredentials, type OssCredentials } from './credentials.js';
export { withRetry, isTransient, backoffDelay, type RetryOptions } from './retry.js';
export { createFsStorage, checkBucketName, type Storage, type StorageFactory, type ObjectInfo, type StoredObject, type PutOptions, type ListOptions, type ListPage, type FsStorage } from '../storage.js';
