import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

/** The job-memory script in a child with --expose-gc, so the heap can be sampled after full collections. */
function measure(n: number) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', pathToFileURL(join(REPO, 'node_modules/tsx/dist/esm/index.mjs')).href, join(REPO, 'test/adapters/backfill/job-memory.ts'), String(n)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    tasks: number; status: string; succeeded: number; failed: number; reportCounts: Record<string, number>;
    peakHeapBytes: number; maxTasksInFlight: number; taskListBytes: number; recordsBytes: number; reportBytes: number;
  };
}

describe('a backfill job does not hold its task list', () => {
  it('creates, runs and reports 300,000 tasks with a heap that stays far below the task list, the records and the report', () => {
    const n = 300_000;
    const m = measure(n);
    expect(m).toMatchObject({ tasks: n, status: 'completed', succeeded: n - n / 1000, failed: n / 1000 });
    expect(m.reportCounts).toEqual({ total: n, succeeded: n - n / 1000, failed: n / 1000, pending: 0 });
    // What went through: ~45 MB of task list, ~80 MB of records, ~50 MB of report.
    expect(m.taskListBytes).toBeGreaterThan(40e6);
    expect(m.recordsBytes).toBeGreaterThan(60e6);
    // Held as objects the task list alone would take several times its 45 MB of JSON. What stays is a
    // status byte per task, one chunk per worker, and a megabyte of buffered lines.
    expect(m.peakHeapBytes).toBeLessThan(24e6);
    expect(m.peakHeapBytes).toBeLessThan(m.taskListBytes / 2);
    // Two workers, 500-task chunks: never more than two chunks' tasks handed out at once.
    expect(m.maxTasksInFlight).toBeLessThanOrEqual(1000);
  }, 300_000);
});
