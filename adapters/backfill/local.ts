/**
 * `run --local`: the job's chunks go through the same upload handler Function Compute runs, in this
 * process, as batch events, with every core encoding through the worker pool.
 */
import { createWorkerPool, type WorkerPool } from '../../entries/node.js';
import type { BatchEvent } from '../fc/batch.js';
import { createUploadHandler, type UploadHandler } from '../fc/handler.js';
import type { LogSink } from '../fc/log.js';
import type { OssCredentials } from '../oss/credentials.js';
import type { Job, Task } from './job.js';
import { resultsOf } from './report.js';
import type { ChunkResult, Executor } from './run.js';

/** The batch event for one chunk (task ids are the task indexes, as strings). */
export function batchEvent(job: Job, invocationId: string, tasks: readonly Task[]): BatchEvent {
  return {
    invocationSchemaVersion: '1.0',
    invocationId,
    job: { id: job.config.id },
    ossRegion: job.config.ossRegion,
    tasks: tasks.map((t) => ({ taskId: String(t.i), ossBucket: t.bucket, ossKey: t.key, ossETag: t.etag, size: t.size })),
  };
}

export interface LocalExecutorOptions {
  readonly job: Job;
  readonly credentials: OssCredentials;
  readonly endpoint?: string;
  readonly threads: number;
  readonly log?: LogSink;
}

export async function createLocalExecutor(options: LocalExecutorOptions): Promise<Executor> {
  const { job } = options;
  const pool: WorkerPool | undefined = options.threads > 1 ? createWorkerPool({ threads: options.threads }) : undefined;
  let upload: UploadHandler;
  try {
    upload = createUploadHandler({
      sourceBucket: job.config.source.bucket,
      targetBucket: job.config.target,
      sourcePrefix: job.config.source.prefix,
      recipe: job.config.recipe,
      manifestKey: job.config.manifestKey,
      endpoint: options.endpoint,
      encoder: pool?.encode,
      decodeHelper: pool?.decodeHelper,
      log: options.log ?? (() => undefined),
      env: {},
    });
    await upload.initialize();
  } catch (e) {
    await pool?.close();
    throw e;
  }
  const context = { requestId: `local-${job.config.id}`, credentials: { ...options.credentials } };
  return {
    async run(chunk, round, tasks): Promise<readonly ChunkResult[]> {
      const event = batchEvent(job, `${job.config.id}-c${chunk}-r${round}`, tasks);
      const r = await upload.handler(Buffer.from(JSON.stringify(event)), context);
      return resultsOf(tasks, r.results);
    },
    async close() {
      await pool?.close();
    },
  };
}
