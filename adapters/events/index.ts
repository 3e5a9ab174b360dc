/** Events in: every shape an upload arrives in, and EventBridge patterns to filter them. */
export { parseUploadEvents, readEventJson, type UploadEvent, type EventShape } from './upload-event.js';
export { parseHttpCloudEvents, toHttpCloudEvent, type HttpMessage } from './http.js';
export { compilePattern, matchesPattern, DEFAULT_UPLOAD_PATTERN, type EventPattern } from './pattern.js';
export { decodeUrlKey, encodeUrlKey, keyCandidates, type KeyEncoding } from './keys.js';
