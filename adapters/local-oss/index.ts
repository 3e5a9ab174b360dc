/** The local OSS-compatible server (development, tests, `imgpipe serve`). Node only. */
export { startLocalOss, type LocalOss, type LocalOssOptions, type NotifyOptions, type Faults, type Invocation } from './server.js';
export { verifyRequest, type Credential, type AuthFailure, type SignedRequest } from './signature.js';
