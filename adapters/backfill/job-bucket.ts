/**
 * A job's state as objects under `_backfill/<job>/` in the target bucket (`run --state-in-bucket`),
 * so a job started on one machine can be resumed or reported from another that has the bucket's
 * credentials. Objects cannot be appended to, so the files of the local folder become parts:
 *
 * - `job.json`, written last, as in the folder;
 * - `tasks/<run>-<part>.jsonl`: the task list in parts of up to 8 MB, `<run>` a random id of this
 *   creation (named in `job.json`), so the parts of an interrupted creation are never read;
 * - `records/<seq>.jsonl`: each a batch of records, `<seq>` zero-padded so listing order is writing
 *   order. Records are buffered and put once the buffer reaches 1 MB or `flushMs` (default 2 s)
 *   after the last put, and on close: a kill loses at most that window of results, whose objects
 *   the next resume submits again and the upload handler answers from their manifests (Succeeded,
 *   nothing rewritten), so a lost record costs a HEAD, not a set;
 * - `report/…`: the completion report (each file put whole on close).
 *
 * `plan` and the upload handler never take a `_backfill/` key as a source (`isOutputKey`).
 */
import { randomBytes } from 'node:crypto';
import { isImgpipeError } from '../../src/index.js';
import { JOB_STATE_PREFIX } from '../fc/loop.js';
import type { Storage } from '../storage.js';
import type { JobStore, TextSink } from './job.js';

const TASK_PART_BYTES = 8 << 20;
const RECORD_BUFFER_BYTES = 1 << 20;

export interface BucketJobStoreOptions {
  /** Longest a result waits in memory before it is put (ms; 0 puts every append). */
  readonly flushMs?: number;
}

export function bucketJobStore(storage: Storage, id: string, options: BucketJobStoreOptions = {}): JobStore {
  const base = `${JOB_STATE_PREFIX}${id}/`;
  const flushMs = options.flushMs ?? 2000;
  const encoder = new TextEncoder();
  let run: string | undefined;
  let nextSeq: number | undefined;
  let buffer = '';
  let lastFlush = performance.now();

  async function* keys(prefix: string): AsyncGenerator<string> {
    let startAfter: string | undefined;
    for (;;) {
      const page = await storage.list({ prefix, startAfter, maxKeys: 1000 });
      for (const o of page.objects) yield o.key;
      if (page.nextStartAfter === undefined) return;
      startAfter = page.nextStartAfter;
    }
  }
  async function* linesOf(prefix: string): AsyncGenerator<string[]> {
    for await (const key of keys(prefix)) {
      const text = new TextDecoder().decode((await storage.get(key)).bytes);
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      if (lines.length > 0) yield lines;
    }
  }
  const put = (key: string, text: string) => storage.put(key, encoder.encode(text), { contentType: 'application/x-ndjson' });

  const flush = async (): Promise<void> => {
    if (buffer === '') return;
    if (nextSeq === undefined) {
      // Continue after the last batch any earlier process put.
      nextSeq = 0;
      for await (const key of keys(`${base}records/`)) nextSeq = Math.max(nextSeq, Number(/(\d+)\.jsonl$/.exec(key)?.[1] ?? -1) + 1);
    }
    const text = buffer;
    buffer = '';
    await put(`${base}records/${String(nextSeq++).padStart(12, '0')}.jsonl`, text);
    lastFlush = performance.now();
  };

  return {
    where: `oss://${storage.bucket}/${base}`,
    reportLocation: `oss://${storage.bucket}/${base}report/`,
    async readConfig() {
      try {
        const text = new TextDecoder().decode((await storage.get(`${base}job.json`)).bytes);
        try {
          run = (JSON.parse(text) as { stateRun?: string }).stateRun;
        } catch {
          // openJob reports the damage.
        }
        return text;
      } catch (e) {
        if (isImgpipeError(e, 'NOT_FOUND')) return undefined;
        throw e;
      }
    },
    async writeConfig(text) {
      const config = JSON.parse(text) as Record<string, unknown>;
      await put(`${base}job.json`, `${JSON.stringify({ ...config, stateRun: run }, null, 2)}\n`);
    },
    async createTasks(): Promise<TextSink> {
      run = randomBytes(4).toString('hex');
      let part = 0;
      let text = '';
      const putPart = async () => {
        await put(`${base}tasks/${run}-${String(part++).padStart(6, '0')}.jsonl`, text);
        text = '';
      };
      return {
        async write(more) {
          text += more;
          if (text.length >= TASK_PART_BYTES) await putPart();
        },
        async close() {
          if (text !== '') await putPart();
        },
      };
    },
    readTasks: () => linesOf(`${base}tasks/${run}-`),
    readRecords: () => linesOf(`${base}records/`),
    async appendRecords(text) {
      buffer += text;
      if (buffer.length >= RECORD_BUFFER_BYTES || performance.now() - lastFlush >= flushMs) await flush();
    },
    async createReportFile(name) {
      let text = '';
      return {
        async write(more) {
          text += more;
        },
        async close() {
          await put(`${base}report/${name}`, text);
        },
      };
    },
    close: flush,
  };
}
