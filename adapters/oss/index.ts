/** OSS behind the storage port (ali-oss), its credentials and its retry policy. */
export { createOssStorage, createOssStorageFactory, type OssStorageOptions, type OssStorageFactoryOptions } from './storage.js';
export { resolveCredentials, type OssCredentials } from './credentials.js';
export { withRetry, isTransient, backoffDelay, type RetryOptions } from './retry.js';
