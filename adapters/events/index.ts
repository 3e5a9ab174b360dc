/**
 * `imgpipe/events`: every shape an upload arrives in (OSS trigger, EventBridge, MNS, batch tasks), key
 * encodings, and EventBridge patterns to filter them. Runtime-neutral: no Node built-ins and no
 * cloud SDK, so a Worker or a browser can parse the same events. Events delivered over HTTP as
 * CloudEvents are parsed with the `cloudevents` package, by `parseHttpCloudEvents` in `imgpipe/fc`.
 */
export { parseUploadEvents, readEventJson, type UploadEvent, type EventShape } from './upload-event.js';
export { compilePattern, matchesPattern, DEFAULT_UPLOAD_PATTERN, type EventPattern } from './pattern.js';
export { decodeUrlKey, encodeUrlKey, keyCandidates, type KeyEncoding } from './keys.js';
