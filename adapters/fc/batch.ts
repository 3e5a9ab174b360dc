/**
 * The backfill's batch event: many objects in one invocation, answered per object with S3 Batch
 * Operations' result codes. The shape follows S3 Batch's Lambda invocation (schema 1.0) with OSS
 * names, so code written for one reads the other:
 *
 * ```json
 * {"invocationSchemaVersion":"1.0","invocationId":"bf-1-c0-r0","job":{"id":"bf-1"},
 *  "tasks":[{"taskId":"17","ossBucket":"photos","ossKey":"uploads/a.jpg","ossETag":"9E10...","size":48213}]}
 * ```
 *
 * answered with `{"invocationSchemaVersion":"1.0","treatMissingKeysAs":"PermanentFailure",
 * "invocationId":…,"results":[{"taskId":"17","resultCode":"Succeeded","resultString":…}]}`.
 * `Succeeded`: the set exists for this ETag and recipe (made now, or already). `PermanentFailure`:
 * retrying cannot help (corrupt, unsupported, too large, a missing source, an invalid key).
 * `TemporaryFailure`: storage or network trouble; the caller retries the task.
 */
import { ImgpipeError, describeValue } from '../../src/index.js';
import { readEventJson } from '../events/upload-event.js';

export type ResultCode = 'Succeeded' | 'TemporaryFailure' | 'PermanentFailure';

export interface BatchTask {
  readonly taskId: string;
  readonly ossBucket: string;
  readonly ossKey: string;
  readonly ossETag?: string;
  readonly size?: number;
}

export interface BatchEvent {
  readonly invocationSchemaVersion: '1.0';
  readonly invocationId: string;
  readonly job?: { readonly id?: string };
  /** Region of the tasks' buckets (default: the function's region). */
  readonly ossRegion?: string;
  readonly tasks: readonly BatchTask[];
}

export interface BatchTaskResult {
  readonly taskId: string;
  readonly resultCode: ResultCode;
  /** Human-readable outcome, as S3 Batch's resultString. */
  readonly resultString: string;
  /** imgpipe's error code for a failure (e.g. `CORRUPT_IMAGE`, `STORAGE_ERROR`). */
  readonly errorCode?: string;
  /** The keys written (variants, then the manifest), for a success. */
  readonly outputs?: readonly string[];
}

/** At most this many tasks per invocation: FC's async request body is limited to 128 KB. */
const MAX_BATCH_TASKS = 1000;

/** The batch event in `event` (a Buffer, string or object), or undefined when it is another kind of event. */
export function readBatchEvent(event: unknown): BatchEvent | undefined {
  let json: unknown;
  try {
    json = readEventJson(event);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !('invocationSchemaVersion' in json) || !('tasks' in json)) return undefined;
  const b = json as Record<string, unknown>;
  const bad = (field: string, expected: string, v: unknown) => new ImgpipeError('INVALID_EVENT', `Expected ${expected} at ${field} of the batch event but received ${describeValue(v)}`);
  if (b.invocationSchemaVersion !== '1.0') throw bad('invocationSchemaVersion', '"1.0"', b.invocationSchemaVersion);
  if (typeof b.invocationId !== 'string' || b.invocationId === '') throw bad('invocationId', 'a non-empty string', b.invocationId);
  if (!Array.isArray(b.tasks) || b.tasks.length === 0 || b.tasks.length > MAX_BATCH_TASKS) throw bad('tasks', `an array of 1-${MAX_BATCH_TASKS} tasks`, Array.isArray(b.tasks) ? `${b.tasks.length} tasks` : b.tasks);
  const tasks = b.tasks.map((t: unknown, i: number) => {
    const task = t as Record<string, unknown>;
    if (typeof task !== 'object' || task === null) throw bad(`tasks[${i}]`, 'an object', t);
    if (typeof task.taskId !== 'string' || task.taskId === '') throw bad(`tasks[${i}].taskId`, 'a non-empty string', task.taskId);
    if (typeof task.ossBucket !== 'string' || task.ossBucket === '') throw bad(`tasks[${i}].ossBucket`, 'a bucket name', task.ossBucket);
    if (typeof task.ossKey !== 'string' || task.ossKey === '') throw bad(`tasks[${i}].ossKey`, 'an object key', task.ossKey);
    if (task.ossETag !== undefined && typeof task.ossETag !== 'string') throw bad(`tasks[${i}].ossETag`, 'an ETag string', task.ossETag);
    if (task.size !== undefined && (!Number.isInteger(task.size) || (task.size as number) < 0)) throw bad(`tasks[${i}].size`, 'a byte count', task.size);
    return Object.freeze({ taskId: task.taskId, ossBucket: task.ossBucket, ossKey: task.ossKey, ossETag: task.ossETag as string | undefined, size: task.size as number | undefined });
  });
  if (b.ossRegion !== undefined && (typeof b.ossRegion !== 'string' || !/^[a-z0-9-]{1,64}$/.test(b.ossRegion))) throw bad('ossRegion', 'a region id such as "cn-hangzhou"', b.ossRegion);
  return Object.freeze({ invocationSchemaVersion: '1.0', invocationId: b.invocationId, job: typeof b.job === 'object' && b.job !== null ? (b.job as { id?: string }) : undefined, ossRegion: b.ossRegion as string | undefined, tasks });
}

/**
 * One task as the OSS trigger record the handler already understands, so a backfilled object goes
 * through exactly the checks an upload does (event pattern, prefix, own-output, replay).
 */
export function taskAsTriggerEvent(task: BatchTask, region: string | undefined): Uint8Array {
  const record = {
    eventName: 'ObjectCreated:PutObject',
    eventSource: 'acs:oss',
    eventTime: new Date().toISOString(),
    eventVersion: '1.0',
    region: region ?? 'cn-hangzhou',
    oss: {
      bucket: { name: task.ossBucket, arn: `acs:oss:${region ?? 'cn-hangzhou'}::${task.ossBucket}` },
      object: { key: task.ossKey, eTag: task.ossETag, size: task.size, deltaSize: task.size },
      ossSchemaVersion: '1.0',
    },
    responseElements: { requestId: `backfill-${task.taskId}` },
  };
  return new TextEncoder().encode(JSON.stringify({ events: [record] }));
}
