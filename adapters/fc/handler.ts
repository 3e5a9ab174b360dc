/**
 * The Function Compute 3.0 upload handler: an event in, the recipe's variants and a manifest out.
 *
 * ```ts
 * // index.mjs
 * import { createUploadHandler } from 'imgpipe/adapters';
 * const upload = createUploadHandler({ sourcePrefix: 'uploads/' });
 * export const handler = upload.handler;
 * export const initialize = upload.initialize;
 * ```
 *
 * Failure semantics, chosen so FC's async retries and dead-letter destination do the right thing:
 * - a malformed event, or a corrupt, unsupported or oversized upload, is permanent: logged with its
 *   code, recorded (an error manifest for uploads), and the invocation *resolves*, so FC does not
 *   retry something that can never succeed;
 * - a storage or network failure *throws*, so FC retries the invocation and finally dead-letters it.
 * Delivery is at least once, so the handler is idempotent: a replayed event whose outputs exist for
 * the same source ETag is skipped after a HEAD per output; a new ETag is processed again. The
 * manifest is written last, so no partial set ever looks complete.
 */
// The Node entry: FC runs Node, and importing it registers how WASM modules are read from disk.
import {
  DEFAULT_RECIPE, ImgpipeError, init, isImgpipeError, outputKey, runRecipe, validateRecipe,
  type Encoder, type ErrorCode, type Limits, type Recipe, type RecipeResult, type RowHelper, type Variant,
} from '../../entries/node.js';
import { describeValue } from '../../src/index.js';
import { checkByteLimit, resolveLimits } from '../../src/index.js';
import { compilePattern, DEFAULT_UPLOAD_PATTERN, type EventPattern } from '../events/pattern.js';
import { keyCandidates } from '../events/keys.js';
import { parseHttpCloudEvents } from './cloudevents.js';
import { parseUploadEvents, type UploadEvent } from '../events/upload-event.js';
import { resolveCredentials } from '../oss/credentials.js';
import type { RetryOptions } from '../oss/retry.js';
import { createOssStorageFactory } from '../oss/storage.js';
import { checkObjectKey, objectKeyProblem, type ObjectInfo, type Storage, type StorageFactory } from '../storage.js';
import { readHttpTriggerEvent, type FcContext, type FcHttpResponse } from './context.js';
import { createLogger, jsonLineSink, type Logger, type LogSink } from './log.js';
import { checkNoSelfTrigger, hasOutputMarker, isOutputKey, META_RECIPE, META_SOURCE_ETAG, META_SOURCE_KEY, META_STATUS } from './loop.js';
import { recipeHash } from './recipe-hash.js';
import { readBatchEvent, taskAsTriggerEvent, type BatchEvent, type BatchTaskResult } from './batch.js';
import { encodeManifest, errorManifest, manifestKey, okManifest, type ManifestSource } from './manifest.js';

export interface UploadHandlerOptions {
  /** Where variants and manifests go. Default: the bucket the event came from. */
  readonly targetBucket?: string;
  /** The bucket the trigger watches, when known: with `targetBucket` it decides whether outputs land beside sources. */
  readonly sourceBucket?: string;
  /**
   * The trigger's filter prefix (e.g. `uploads/`). Events for keys outside it are skipped. Required
   * (non-overlapping with every output prefix) when outputs land in the source bucket.
   */
  readonly sourcePrefix?: string;
  /** The upload recipe (default: the core's `DEFAULT_RECIPE`). */
  readonly recipe?: Recipe;
  /** Manifest key template (default `meta/{name}.json`; see `manifestKey`). */
  readonly manifestKey?: string;
  /** EventBridge pattern an event (in CloudEvent form) must match (default `DEFAULT_UPLOAD_PATTERN`). */
  readonly pattern?: EventPattern;
  /** Opens buckets. Default: OSS through ali-oss with credentials from the context or environment. */
  readonly storage?: StorageFactory;
  /** OSS endpoint override for the default storage (also `IMGPIPE_OSS_ENDPOINT`), e.g. the local server. */
  readonly endpoint?: string;
  /** Retry policy of the default storage. */
  readonly retry?: RetryOptions;
  readonly limits?: Partial<Limits>;
  /**
   * Where the recipe's encodes run (default: in the handler's thread). On an instance with several
   * vCPUs, `createWorkerPool({ threads: vCPUs }).encode` spreads one upload's encodes over them.
   */
  readonly encoder?: Encoder;
  /** With a worker pool, its `decodeHelper`: an idle worker shares the largest size's decode and resize. */
  readonly decodeHelper?: RowHelper;
  /** Parallel uploads of variants (default 3). */
  readonly concurrency?: number;
  /** Objects of a backfill batch event processed at once (default 1: one object's encodes already fill an FC instance). */
  readonly batchConcurrency?: number;
  /**
   * Most records one invocation may carry (default 100; OSS sends one per event). More is refused as
   * INVALID_EVENT before any is processed, so one posted CloudEvent batch cannot occupy an instance.
   */
  readonly maxEvents?: number;
  /** Where log records go (default: JSON lines on stdout). */
  readonly log?: LogSink;
  /** Environment to read credentials and the endpoint from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export type OutcomeStatus = 'processed' | 'skipped' | 'failed';
export type SkipReason = 'filtered' | 'outside-source-prefix' | 'own-output' | 'already-processed' | 'source-missing';

export interface EventOutcome {
  readonly eventId?: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly status: OutcomeStatus;
  readonly reason?: SkipReason;
  /** Error code of a permanent failure. */
  readonly code?: ErrorCode;
  /** What went wrong, for a failure of the object (not of the event). */
  readonly message?: string;
  readonly manifestKey?: string;
  readonly variants?: number;
}

export interface HandlerResult {
  readonly requestId?: string;
  readonly outcomes: readonly EventOutcome[];
  /** For a backfill batch event (see `./batch.ts`): S3 Batch's response fields, one result per task. */
  readonly invocationSchemaVersion?: '1.0';
  readonly invocationId?: string;
  readonly treatMissingKeysAs?: 'PermanentFailure';
  readonly results?: readonly BatchTaskResult[];
}

export interface UploadHandler {
  /** The FC 3.0 handler: `export const handler = upload.handler`. */
  readonly handler: (event: unknown, context?: FcContext) => Promise<HandlerResult>;
  /**
   * For an FC HTTP trigger (an EventBridge HTTP target): CloudEvents in binary or structured mode.
   * Answers 200 with the outcomes, 400 for a request that is not an OSS CloudEvent (never retried),
   * 503 for a storage failure (retried by EventBridge).
   */
  readonly httpHandler: (event: unknown, context?: FcContext) => Promise<FcHttpResponse>;
  /** The FC initializer: compiles the WASM modules once per instance. */
  readonly initialize: (context?: FcContext) => Promise<void>;
}

/** Default cap on records per invocation. */
const DEFAULT_MAX_EVENTS = 100;
/** An Alibaba Cloud region id: cn-hangzhou, ap-southeast-1, cn-shanghai-finance-1. */
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+){1,4}$/;

/** Codes that will fail the same way however often they are retried. */
const PERMANENT_CODES: readonly ErrorCode[] = ['CORRUPT_IMAGE', 'UNSUPPORTED_FORMAT', 'IMAGE_TOO_LARGE'];

/**
 * Run `fn` over `items`, `limit` at a time. After the first failure no further item starts, and the
 * failure is rethrown only once the calls in flight have settled: an invocation that has reported
 * failure must not keep writing (FC may freeze the instance, and the retry would race the leftovers).
 */
async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  });
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** Build the handler. Throws INVALID_ARGUMENT for a configuration that would loop or a bad recipe. */
export function createUploadHandler(options: UploadHandlerOptions = {}): UploadHandler {
  const recipe = validateRecipe(options.recipe ?? DEFAULT_RECIPE);
  const recipeId = recipeHash(recipe);
  const manifestTemplate = options.manifestKey ?? 'meta/{name}.json';
  const sourcePrefix = options.sourcePrefix ?? '';
  const outputTemplates = [...recipe.outputs.map((o) => o.key), manifestTemplate];
  const sameBucket = options.targetBucket === undefined || options.targetBucket === options.sourceBucket;
  checkNoSelfTrigger({ sameBucket, sourcePrefix, outputTemplates });
  const matches = compilePattern(options.pattern ?? DEFAULT_UPLOAD_PATTERN);
  const concurrency = options.concurrency ?? 3;
  const batchConcurrency = options.batchConcurrency ?? 1;
  if (!Number.isInteger(batchConcurrency) || batchConcurrency < 1 || batchConcurrency > 64) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and 64 for batchConcurrency but received ${describeValue(options.batchConcurrency)}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and 32 for concurrency but received ${describeValue(options.concurrency)}`);
  }
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  if (!Number.isInteger(maxEvents) || maxEvents < 1) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a positive integer for maxEvents but received ${describeValue(options.maxEvents)}`);
  }
  const capEvents = (events: readonly UploadEvent[]): readonly UploadEvent[] => {
    if (events.length > maxEvents) {
      throw new ImgpipeError('INVALID_EVENT', `Expected at most ${maxEvents} records per invocation (maxEvents) but received ${events.length}`);
    }
    return events;
  };
  const limits = resolveLimits(options.limits);
  const sink = options.log ?? jsonLineSink;
  const env = options.env ?? (typeof process === 'undefined' ? {} : process.env);

  const storageFor = (context: FcContext | undefined): StorageFactory =>
    options.storage ??
    createOssStorageFactory({
      credentials: resolveCredentials(context, env),
      endpoint: options.endpoint ?? env.IMGPIPE_OSS_ENDPOINT,
      runningInRegion: context?.region,
      retry: options.retry,
    });

  const expectedOutputs = (key: string): string[] =>
    recipe.sizes.flatMap((size) => recipe.outputs.map((out) => outputKey(out.key, key, size.name, out.format)));

  /**
   * Already done for this source ETag by this recipe? One HEAD for the manifest, then one per output.
   * A set made by another recipe (or before outputs carried the recipe hash) is done again.
   */
  async function alreadyDone(target: Storage, key: string, etag: string): Promise<boolean> {
    const current = (meta: Readonly<Record<string, string>>) => meta[META_SOURCE_ETAG] === etag && meta[META_RECIPE] === recipeId;
    const manifest = await target.head(manifestKey(manifestTemplate, key));
    if (!manifest || !current(manifest.meta)) return false;
    if (manifest.meta[META_STATUS] === 'failed') return true;
    const heads = await Promise.all(expectedOutputs(key).map((k) => target.head(k)));
    return heads.every((h) => h !== undefined && current(h.meta));
  }

  /**
   * Find the source object, trying the URL-decoded reading of a raw key in case the event encoded it.
   * A HEAD, not a GET: the marker and the size limit are checked before any byte is downloaded.
   */
  async function locateSource(source: Storage, ev: UploadEvent): Promise<ObjectInfo | undefined> {
    // Only readings the storage port accepts: the URL-decoded reading of a valid raw key may not be.
    for (const key of keyCandidates(ev.key, ev.keyEncoding).filter((k) => objectKeyProblem(k) === undefined)) {
      const info = await source.head(key);
      if (info) return info;
    }
    return undefined;
  }

  async function processEvent(ev: UploadEvent, factory: StorageFactory, log: Logger): Promise<EventOutcome> {
    const started = Date.now();
    const base = { eventId: ev.id, bucket: ev.bucket, key: ev.key };
    const fields = { eventId: ev.id, bucket: ev.bucket, key: ev.key, eventType: ev.eventType };
    const targetBucket = options.targetBucket ?? ev.bucket;
    const skip = (reason: SkipReason, extra: Record<string, unknown> = {}): EventOutcome => {
      log('info', 'skipped', { ...fields, reason, ms: Date.now() - started, ...extra });
      return { ...base, status: 'skipped', reason };
    };
    // Only the configured source: an event naming another bucket (anyone who can post a CloudEvent to
    // the HTTP trigger can write one) would otherwise be read with the function's credentials.
    if (options.sourceBucket !== undefined && ev.bucket !== options.sourceBucket) return skip('filtered', { expectedBucket: options.sourceBucket });
    // The region picks the OSS endpoint (oss-<region>.aliyuncs.com): only a region-shaped name may.
    if (ev.region !== undefined && !REGION.test(ev.region)) {
      const message = `Expected a region such as cn-hangzhou (lower-case letters, digits and '-') for the event's region but received ${describeValue(ev.region)}`;
      log('error', 'invalid region', { ...fields, code: 'INVALID_EVENT', error: message, ms: Date.now() - started });
      return { ...base, status: 'failed', code: 'INVALID_EVENT', message };
    }
    if (ev.bucket === targetBucket && isOutputKey(ev.key, outputTemplates)) return skip('own-output');
    if (hasOutputMarker(ev.userMeta)) return skip('own-output');
    if (!matches(ev.cloudEvent)) return skip('filtered');
    if (!ev.key.startsWith(sourcePrefix)) return skip('outside-source-prefix');
    // A key no storage call accepts (control characters, traversal, over-long) fails identically on
    // every retry: record it as permanent instead of throwing for FC to retry and dead-letter.
    if (keyCandidates(ev.key, ev.keyEncoding).every((k) => objectKeyProblem(k) !== undefined)) {
      try {
        checkObjectKey(ev.key);
      } catch (e) {
        if (!isImgpipeError(e)) throw e;
        log('error', 'invalid object key', { ...fields, code: e.code, error: e.message, ms: Date.now() - started });
        return { ...base, status: 'failed', code: e.code, message: e.message };
      }
    }

    const target = factory(targetBucket, ev.region);
    if (ev.etag !== undefined && (await alreadyDone(target, ev.key, ev.etag))) return skip('already-processed', { etag: ev.etag });

    const sourceStorage = factory(ev.bucket, ev.region);
    const info = await locateSource(sourceStorage, ev);
    if (!info) return skip('source-missing');
    if (hasOutputMarker(info.meta)) return skip('own-output');
    const { key } = info;
    const mKey = manifestKey(manifestTemplate, key);
    // The object may have been overwritten since the event: what matters is the ETag of the bytes read.
    if (info.etag !== ev.etag && (await alreadyDone(target, key, info.etag))) return skip('already-processed', { etag: info.etag });

    let etag = info.etag;
    let bytes = info.size;
    const marker = () => ({ [META_SOURCE_KEY]: encodeURIComponent(key), [META_SOURCE_ETAG]: etag, [META_RECIPE]: recipeId });
    let result: RecipeResult;
    try {
      // Refused from the HEAD, so an oversized upload is never downloaded into the instance's memory.
      checkByteLimit(info.size, limits);
      const source = await sourceStorage.get(key);
      // An overwrite between HEAD and GET: the outputs describe the bytes actually read.
      etag = source.etag;
      bytes = source.bytes.byteLength;
      // the upload's user metadata feeds {meta:NAME} in the recipe's blind watermark content
      result = await runRecipe(source.bytes, { key, recipe, limits, encoder: options.encoder, decodeHelper: options.decodeHelper, metadata: info.meta });
    } catch (e) {
      if (!isImgpipeError(e) || !PERMANENT_CODES.includes(e.code)) throw e;
      const sourceInfo: ManifestSource = { bucket: ev.bucket, key, etag, bytes };
      await target.put(mKey, encodeManifest(errorManifest(sourceInfo, e.code, e.message, new Date())), {
        contentType: 'application/json',
        cacheControl: 'no-cache',
        meta: { ...marker(), [META_STATUS]: 'failed' },
      });
      log('error', 'permanent failure recorded', { ...fields, code: e.code, error: e.message, manifestKey: mKey, ms: Date.now() - started });
      return { ...base, status: 'failed', code: e.code, message: e.message, manifestKey: mKey };
    }
    const processedMs = Date.now() - started;
    await mapLimit(result.variants, concurrency, async (v: Variant) => {
      await target.put(v.key, v.bytes, { contentType: v.contentType, cacheControl: recipe.cacheControl, meta: marker() });
    });
    // Last: the manifest's presence is what says the set is complete.
    await target.put(mKey, encodeManifest(okManifest(ev.bucket, etag, result, result.variants, new Date())), {
      contentType: 'application/json',
      cacheControl: 'no-cache',
      meta: { ...marker(), [META_STATUS]: 'ok' },
    });
    log('info', 'processed', { ...fields, etag, variants: result.variants.length, manifestKey: mKey, processMs: processedMs, ms: Date.now() - started });
    return { ...base, status: 'processed', manifestKey: mKey, variants: result.variants.length };
  }

  async function runEvents(events: readonly UploadEvent[], context: FcContext | undefined, log: Logger): Promise<EventOutcome[]> {
    const factory = storageFor(context);
    const outcomes: EventOutcome[] = [];
    for (const ev of events) {
      try {
        outcomes.push(await processEvent(ev, factory, log));
      } catch (e) {
        // Transient (or a bug): let the platform retry the invocation; finished events will be skipped.
        log('error', 'failed, will be retried', { eventId: ev.id, bucket: ev.bucket, key: ev.key, code: isImgpipeError(e) ? e.code : 'INTERNAL', error: e instanceof Error ? e.message : String(e) });
        throw e;
      }
    }
    return outcomes;
  }

  /**
   * A backfill batch: every task goes through the same checks and steps as an upload event, and is
   * answered with S3 Batch's result code instead of throwing, so one object's storage trouble does not
   * make FC retry the objects already done (the caller retries TemporaryFailure tasks itself).
   */
  async function runBatch(batch: BatchEvent, context: FcContext | undefined, log: Logger): Promise<HandlerResult> {
    const factory = storageFor(context);
    const outcomes: EventOutcome[] = [];
    const results: BatchTaskResult[] = [];
    const one = async (i: number): Promise<void> => {
      const task = batch.tasks[i];
      const outputs = () => [...expectedOutputs(task.ossKey), manifestKey(manifestTemplate, task.ossKey)];
      let outcome: EventOutcome;
      try {
        const [ev] = parseUploadEvents(taskAsTriggerEvent(task, batch.ossRegion ?? context?.region));
        outcome = await processEvent(ev, factory, log);
      } catch (e) {
        const code = isImgpipeError(e) ? e.code : 'INTERNAL';
        const message = e instanceof Error ? e.message : String(e);
        // Storage trouble, or a crash (a worker killed by memory pressure), may pass; the rest will not.
        const temporary = code === 'STORAGE_ERROR' || code === 'INTERNAL';
        log('error', temporary ? 'batch task failed, may be retried' : 'batch task failed permanently', { taskId: task.taskId, bucket: task.ossBucket, key: task.ossKey, code, error: message });
        outcomes[i] = { eventId: task.taskId, bucket: task.ossBucket, key: task.ossKey, status: 'failed', code, message };
        results[i] = { taskId: task.taskId, resultCode: temporary ? 'TemporaryFailure' : 'PermanentFailure', resultString: message, errorCode: code };
        return;
      }
      outcomes[i] = outcome;
      if (outcome.status === 'processed') {
        results[i] = { taskId: task.taskId, resultCode: 'Succeeded', resultString: `processed: ${outcome.variants} variants and a manifest`, outputs: outputs() };
      } else if (outcome.status === 'skipped' && outcome.reason === 'already-processed') {
        results[i] = { taskId: task.taskId, resultCode: 'Succeeded', resultString: 'already up to date for this ETag and recipe', outputs: outputs() };
      } else if (outcome.status === 'failed') {
        results[i] = { taskId: task.taskId, resultCode: 'PermanentFailure', resultString: outcome.message ?? String(outcome.code), errorCode: outcome.code };
      } else if (outcome.reason === 'source-missing') {
        results[i] = { taskId: task.taskId, resultCode: 'PermanentFailure', resultString: 'the source object no longer exists', errorCode: 'NOT_FOUND' };
      } else {
        results[i] = { taskId: task.taskId, resultCode: 'PermanentFailure', resultString: `not processed: the handler's configuration skips it (${outcome.reason})`, errorCode: 'INVALID_ARGUMENT' };
      }
    };
    let next = 0;
    const lanes = Math.min(batchConcurrency, batch.tasks.length);
    await Promise.all(Array.from({ length: lanes }, async () => {
      while (next < batch.tasks.length) await one(next++);
    }));
    return { requestId: context?.requestId, outcomes, invocationSchemaVersion: '1.0', invocationId: batch.invocationId, treatMissingKeysAs: 'PermanentFailure', results };
  }

  async function handler(event: unknown, context?: FcContext): Promise<HandlerResult> {
    const requestId = context?.requestId;
    const log = createLogger(sink, { requestId });
    let events: readonly UploadEvent[];
    try {
      const batch = readBatchEvent(event);
      if (batch) return await runBatch(batch, context, log);
      events = capEvents(parseUploadEvents(event));
    } catch (e) {
      if (!isImgpipeError(e, 'INVALID_EVENT')) throw e;
      // Permanent: a malformed event never becomes valid by retrying it.
      log('error', 'invalid event', { code: e.code, error: e.message });
      return { requestId, outcomes: [{ status: 'failed', code: 'INVALID_EVENT' }] };
    }
    return { requestId, outcomes: await runEvents(events, context, log) };
  }

  async function httpHandler(event: unknown, context?: FcContext): Promise<FcHttpResponse> {
    const requestId = context?.requestId;
    const log = createLogger(sink, { requestId });
    const respond = (statusCode: number, body: unknown): FcHttpResponse => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let events: readonly UploadEvent[];
    try {
      events = capEvents(parseHttpCloudEvents(readHttpTriggerEvent(event)));
    } catch (e) {
      if (!isImgpipeError(e, 'INVALID_EVENT')) throw e;
      log('error', 'invalid event', { code: e.code, error: e.message });
      // 4xx: the sender must not retry a request that can never be understood.
      return respond(400, { code: e.code, message: e.message });
    }
    try {
      return respond(200, { requestId, outcomes: await runEvents(events, context, log) });
    } catch (e) {
      const code = isImgpipeError(e) ? e.code : 'INTERNAL';
      // 5xx: EventBridge retries the delivery, and finished events are skipped next time.
      return respond(503, { code, message: e instanceof Error ? e.message : String(e) });
    }
  }

  async function initialize(context?: FcContext): Promise<void> {
    const started = Date.now();
    await init();
    createLogger(sink, { requestId: context?.requestId })('info', 'initialized', { ms: Date.now() - started });
  }

  return Object.freeze({ handler, httpHandler, initialize });
}
