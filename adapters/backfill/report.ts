/**
 * The completion report, in the shape of S3 Batch Operations': CSV files without a header, one per
 * outcome (`succeeded.csv`, `failed.csv`), indexed by a `manifest.json` that names each file, its MD5
 * and the schema. Rows: Bucket, Key, ETag, TaskStatus, ErrorCode, ResultMessage, Outputs (a JSON array
 * of the keys written).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchTaskResult } from '../fc/batch.js';
import type { Job, Task } from './job.js';
import type { ChunkResult } from './run.js';

export const REPORT_SCHEMA = 'Bucket, Key, ETag, TaskStatus, ErrorCode, ResultMessage, Outputs';

/** Match a batch answer to its tasks; a task the answer leaves out is a TemporaryFailure (retried). */
export function resultsOf(tasks: readonly Task[], results: readonly BatchTaskResult[] | undefined): ChunkResult[] {
  const byId = new Map((results ?? []).map((r) => [r.taskId, r]));
  return tasks.map((t) => {
    const r = byId.get(String(t.i));
    if (!r) return { i: t.i, status: 'TemporaryFailure', code: 'INTERNAL', message: 'the invocation answered without a result for this task' };
    return { i: t.i, status: r.resultCode, code: r.errorCode, message: r.resultString, outputs: r.outputs };
  });
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export interface ReportSummary {
  readonly job: string;
  readonly dir: string;
  readonly manifest: ReportManifest;
  readonly counts: { readonly total: number; readonly succeeded: number; readonly failed: number; readonly pending: number };
  /** Failures by error code. */
  readonly errorCodes: Record<string, number>;
}

export interface ReportManifest {
  readonly Format: 'Report_CSV_20180820';
  readonly ReportCreationDate: string;
  readonly Results: readonly { readonly TaskExecutionStatus: 'succeeded' | 'failed'; readonly Bucket: string; readonly MD5Checksum: string; readonly Key: string }[];
  readonly ReportSchema: string;
}

/** Write the report into `<job folder>/report/`. `failedOnly` leaves out the succeeded file. */
export async function writeReport(job: Job, options: { failedOnly?: boolean } = {}): Promise<ReportSummary> {
  const dir = join(job.dir, 'report');
  await mkdir(dir, { recursive: true });
  const succeeded: string[] = [];
  const failed: string[] = [];
  const errorCodes: Record<string, number> = {};
  for (const t of job.tasks) {
    const r = job.results.get(t.i);
    if (!r) continue;
    const row = [t.bucket, t.key, t.etag, r.status, r.code ?? '', r.message ?? '', JSON.stringify(r.outputs ?? [])].map(csvField).join(',');
    if (r.status === 'Succeeded') succeeded.push(row);
    else {
      failed.push(row);
      errorCodes[r.code ?? 'UNKNOWN'] = (errorCodes[r.code ?? 'UNKNOWN'] ?? 0) + 1;
    }
  }
  const files: ReportManifest['Results'][number][] = [];
  const emit = async (status: 'succeeded' | 'failed', rows: string[]) => {
    const text = rows.map((r) => `${r}\n`).join('');
    const name = `${status}.csv`;
    await writeFile(join(dir, name), text);
    files.push({ TaskExecutionStatus: status, Bucket: '', MD5Checksum: createHash('md5').update(text).digest('hex'), Key: `report/${name}` });
  };
  if (!options.failedOnly) await emit('succeeded', succeeded);
  await emit('failed', failed);
  const manifest: ReportManifest = { Format: 'Report_CSV_20180820', ReportCreationDate: new Date().toISOString(), Results: files, ReportSchema: REPORT_SCHEMA };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    job: job.config.id,
    dir,
    manifest,
    counts: { total: job.tasks.length, succeeded: succeeded.length, failed: failed.length, pending: job.tasks.length - succeeded.length - failed.length },
    errorCodes,
  };
}
