/** `imgpipe/fc` (Node): Function Compute 3.0: the upload handler and what it is made of, CloudEvents over HTTP, and x-oss-process on an HTTP trigger. */
export { createUploadHandler, type UploadHandler, type UploadHandlerOptions, type HandlerResult, type EventOutcome, type OutcomeStatus, type SkipReason } from './handler.js';
export { manifestKey, type Manifest, type OkManifest, type ErrorManifest, type ManifestSource } from './manifest.js';
export { META_SOURCE_KEY, META_SOURCE_ETAG, META_STATUS, META_RECIPE, checkNoSelfTrigger, staticPrefix } from './loop.js';
export { recipeHash } from './recipe-hash.js';
export { jsonLineSink, type LogRecord, type LogSink, type LogLevel } from './log.js';
export { readHttpTriggerEvent, type FcContext, type FcCredentials, type FcEventHandler, type FcHttpResponse } from './context.js';
export { parseHttpCloudEvents, toHttpCloudEvent, type HttpMessage } from './cloudevents.js';
export { createFcHttpHandler, fcEventToRequest, type FcHttpEvent, type FcHttpHandler } from '../http/fc.js';
