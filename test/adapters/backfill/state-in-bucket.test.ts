import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../../../adapters/backfill/plan.js';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';
import { DEFAULT_RECIPE } from '../../../src/recipe.js';
import { cli, credential, lastJson, seedMixed, type Seeded } from './helpers.js';

let root: string;
let here: string;
let elsewhere: string;
let server: LocalOss;
let seeded: Seeded;
let env: Record<string, string>;
const SRC = 'oss://photos/uploads/';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-backfill-sib-'));
  here = await mkdtemp(join(tmpdir(), 'imgpipe-backfill-sib-cwd-'));
  elsewhere = await mkdtemp(join(tmpdir(), 'imgpipe-backfill-sib-other-'));
  server = await startLocalOss({ root, buckets: ['photos', 'photos-out'], credentials: [credential] });
  seeded = await seedMixed(server, 'photos', 'photos-out');
  env = { IMGPIPE_OSS_ENDPOINT: server.endpoint };
}, 60_000);

afterAll(async () => {
  await server?.close();
  for (const d of [root, here, elsewhere]) await rm(d, { recursive: true, force: true });
});

describe('backfill job state kept in the target bucket (--state-in-bucket)', () => {
  it('is written under _backfill/JOB/, resumed and reported from another folder with --target, and never planned as a source', async () => {
    const e = seeded.expected;
    const todo = e.missing.length + e.stale.length;
    const r1 = await cli(['backfill', 'run', SRC, '--target', 'oss://photos-out', '--local', '--state-in-bucket', '--job', 'sib', '--chunk', '1', '--json'], {
      cwd: here, env, onStdout: (chunk, child) => { if (chunk.includes('"event":"progress"')) child.kill('SIGKILL'); },
    });
    expect(r1.signal).toBe('SIGKILL');
    const out = server.storage('photos-out');
    const config = JSON.parse(new TextDecoder().decode((await out.get('_backfill/sib/job.json')).bytes)) as { tasks: number; state: string; stateRun: string };
    expect(config).toMatchObject({ tasks: todo, state: 'bucket' });
    expect((await out.list({ prefix: `_backfill/sib/tasks/${config.stateRun}-` })).objects.length).toBe(1);
    // Nothing of the job in the folder but the note of where it lives.
    await expect(stat(join(here, '.imgpipe-backfill/sib/job.json'))).rejects.toThrow();
    expect(JSON.parse(await readFile(join(here, '.imgpipe-backfill/sib/state-in-bucket.json'), 'utf8'))).toMatchObject({ target: 'photos-out' });

    // Another folder (another machine) finds it through --target alone.
    const none = await cli(['backfill', 'resume', 'sib', '--local', '--json'], { cwd: elsewhere, env });
    expect(lastJson(none.stdout).error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/--target oss:\/\/ITS-TARGET/) });
    const resumed = await cli(['backfill', 'resume', 'sib', '--target', 'oss://photos-out', '--local', '--json'], { cwd: elsewhere, env });
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(lastJson(resumed.stdout)).toMatchObject({ event: 'end', status: 'completed', total: todo, succeeded: todo - seeded.corrupt.length, failed: seeded.corrupt.length });
    expect((await out.list({ prefix: '_backfill/sib/records/' })).objects.length).toBeGreaterThan(0);

    // The report goes beside the state, in the bucket; from the first folder the note finds the job.
    const report = await cli(['backfill', 'report', 'sib', '--json'], { cwd: here, env });
    expect(report.code, report.stderr).toBe(0);
    const summary = lastJson(report.stdout) as { counts: Record<string, number>; dir: string };
    expect(summary.dir).toBe('oss://photos-out/_backfill/sib/report/');
    expect(summary.counts).toEqual({ total: todo, succeeded: todo - seeded.corrupt.length, failed: seeded.corrupt.length, pending: 0 });
    const failed = new TextDecoder().decode((await out.get('_backfill/sib/report/failed.csv')).bytes);
    for (const k of seeded.corrupt) expect(failed).toContain(`photos,${k},`);
    expect(JSON.parse(new TextDecoder().decode((await out.get('_backfill/sib/report/manifest.json')).bytes)).Results).toHaveLength(2);

    // The job state beside the outputs changes nothing in the next plan.
    const again = await cli(['backfill', 'plan', SRC, '--target', 'oss://photos-out', '--json'], { cwd: elsewhere, env });
    expect(lastJson(again.stdout).counts).toEqual({ missing: 0, stale: 0, 'up-to-date': todo + e['up-to-date'].length, skip: e.skip.length });
    // And in a bucket that is its own target, the job's objects are never sources.
    const templates = [...DEFAULT_RECIPE.outputs.map((o) => o.key), 'meta/{name}.json'];
    expect(skipReason({ bucket: 'photos', key: '_backfill/sib/records/x.jpg', size: 10, etag: 'E' }, templates, true, 1e9)).toBe('own-output');
  }, 240_000);
});
