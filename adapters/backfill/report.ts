/**
 * The completion report, in the shape of S3 Batch Operations': CSV files without a header, one per
 * outcome (`succeeded.csv`, `failed.csv`), indexed by a `manifest.json` that names each file, its MD5
 * and the schema. Rows: Bucket, Key, ETag, TaskStatus, ErrorCode, ResultMessage, Outputs (a JSON array
 * of the keys written).
 */
import { createHash, type Hash } from 'node:crypto';
import type { BatchTaskResult } from '../fc/batch.js';
import type { Job, Task, TextSink } from './job.js';
import type { ChunkResult } from './run.js';

const REPORT_SCHEMA = 'Bucket, Key, ETag, TaskStatus, ErrorCode, ResultMessage, Outputs';

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

/**
 * Write the report (a folder `report/` beside the job's state). The records are streamed: each
 * task's first result is its row (a job never records a second one), and the files are written as
 * they grow, so a report of millions of rows holds none of them. `failedOnly` leaves out the
 * succeeded file.
 */
export async function writeReport(job: Job, options: { failedOnly?: boolean } = {}): Promise<ReportSummary> {
  const errorCodes: Record<string, number> = {};
  const seen = new Uint8Array(Math.ceil(job.config.tasks / 8));
  interface ReportFile { sink?: TextSink; md5: Hash; rows: number; text: string }
  const files: Record<'succeeded' | 'failed', ReportFile> = {
    succeeded: { sink: options.failedOnly ? undefined : await job.store.createReportFile('succeeded.csv'), md5: createHash('md5'), rows: 0, text: '' },
    failed: { sink: await job.store.createReportFile('failed.csv'), md5: createHash('md5'), rows: 0, text: '' },
  };
  const flush = async (f: ReportFile, force: boolean) => {
    if (f.text.length < 1 << 20 && !(force && f.text !== '')) return;
    f.md5.update(f.text);
    await f.sink?.write(f.text);
    f.text = '';
  };
  for await (const batch of job.records()) {
    for (const r of batch) {
      if (r.t !== 'result' || r.i < 0 || r.i >= job.config.tasks || seen[r.i >> 3] & (1 << (r.i & 7))) continue;
      seen[r.i >> 3] |= 1 << (r.i & 7);
      const row = `${[r.bucket, r.key, r.etag, r.status, r.code ?? '', r.message ?? '', JSON.stringify(r.outputs ?? [])].map(csvField).join(',')}\n`;
      const f = r.status === 'Succeeded' ? files.succeeded : files.failed;
      f.rows++;
      if (r.status !== 'Succeeded') errorCodes[r.code ?? 'UNKNOWN'] = (errorCodes[r.code ?? 'UNKNOWN'] ?? 0) + 1;
      if (f.sink) {
        f.text += row;
        await flush(f, false);
      }
    }
  }
  const results: ReportManifest['Results'][number][] = [];
  for (const status of ['succeeded', 'failed'] as const) {
    const f = files[status];
    if (!f.sink) continue;
    await flush(f, true);
    await f.sink.close();
    results.push({ TaskExecutionStatus: status, Bucket: '', MD5Checksum: f.md5.digest('hex'), Key: `report/${status}.csv` });
  }
  const manifest: ReportManifest = { Format: 'Report_CSV_20180820', ReportCreationDate: new Date().toISOString(), Results: results, ReportSchema: REPORT_SCHEMA };
  const index = await job.store.createReportFile('manifest.json');
  await index.write(`${JSON.stringify(manifest, null, 2)}\n`);
  await index.close();
  const total = job.config.tasks;
  const { succeeded, failed } = { succeeded: files.succeeded.rows, failed: files.failed.rows };
  return { job: job.config.id, dir: job.store.reportLocation, manifest, counts: { total, succeeded, failed, pending: total - succeeded - failed }, errorCodes };
}
