import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAcs3 } from '../../../adapters/fc/acs3.js';
import { createUploadHandler, type HandlerResult } from '../../../adapters/fc/handler.js';
import { startLocalOss, type LocalOss } from '../../../adapters/local-oss/server.js';
import { cli, credential, lastJson, seedMixed, type Seeded } from './helpers.js';

let root: string;
let cwd: string;
let server: LocalOss;
let seeded: Seeded;
const deadLetters: string[] = [];
const successes: string[] = [];
let alwaysFails = 0;

/** A signed FC API request with fetch, as the backfill client makes it. */
async function fc(method: string, path: string, headers: Record<string, string> = {}, body?: string, sign = true): Promise<Response> {
  const url = new URL(path, server.fcEndpoint);
  const bytes = body === undefined ? undefined : new TextEncoder().encode(body);
  const all = sign ? signAcs3({ method, host: url.host, path: url.pathname, query: [...url.searchParams.entries()], headers, body: bytes }, credential) : headers;
  const { host: _h, ...sent } = all;
  return fetch(url, { method, headers: sent, body: bytes === undefined ? undefined : Buffer.from(bytes) });
}

async function waitFor(name: string, id: string, statuses: string[]): Promise<Record<string, unknown>> {
  for (;;) {
    const t = (await (await fc('GET', `/2023-03-30/functions/${name}/async-tasks/${id}`)).json()) as Record<string, unknown>;
    if (statuses.includes(String(t.status))) return t;
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-fc-emu-'));
  cwd = await mkdtemp(join(tmpdir(), 'imgpipe-fc-emu-cwd-'));
  let endpoint = '';
  const upload = () => createUploadHandler({ sourceBucket: 'photos', targetBucket: 'photos-out', sourcePrefix: 'uploads/', env: { IMGPIPE_OSS_ENDPOINT: endpoint }, log: () => undefined });
  let handler: ReturnType<typeof upload> | undefined;
  server = await startLocalOss({
    root,
    buckets: ['photos', 'photos-out'],
    credentials: [credential],
    functions: {
      'imgpipe-upload': (event, context) => (handler ??= upload()).handler(event, context),
      flaky: { handler: async () => { alwaysFails++; throw new Error('boom'); }, maxAsyncRetryAttempts: 2, destinationConfig: { onFailure: { destination: 'acs:fc:cn-hangzhou:1234567890:functions/dead-letter' } } },
      ok: { handler: async () => ({ fine: true }), destinationConfig: { onSuccess: { destination: 'acs:fc:cn-hangzhou:1234567890:functions/on-success' } } },
      slow: { handler: async () => { await new Promise((r) => setTimeout(r, 1500)); return 'slow'; }, instances: 1, maxAsyncEventAgeInSeconds: 1 },
      'dead-letter': async (event) => { deadLetters.push(Buffer.from(event as Uint8Array).toString()); return 'ok'; },
      'on-success': async (event) => { successes.push(Buffer.from(event as Uint8Array).toString()); return 'ok'; },
    },
  });
  endpoint = server.endpoint;
  seeded = await seedMixed(server, 'photos', 'photos-out');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
});

describe('the local server\'s FC 3.0 async invocation API', () => {
  it('refuses unsigned and wrongly signed requests, and unknown functions', async () => {
    const unsigned = await fc('POST', '/2023-03-30/functions/ok/invocations', { 'x-fc-invocation-type': 'Async' }, '{}', false);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ Code: 'MissingAuthorization' });
    const url = new URL('/2023-03-30/functions/ok/invocations', server.fcEndpoint);
    const signed = signAcs3({ method: 'POST', host: url.host, path: url.pathname, headers: { 'x-fc-invocation-type': 'Async' }, body: new TextEncoder().encode('{}') }, { ...credential, accessKeySecret: 'wrong' });
    const { host: _h, ...sent } = signed;
    const bad = await fetch(url, { method: 'POST', headers: sent, body: '{}' });
    expect(bad.status).toBe(403);
    expect(await bad.json()).toMatchObject({ Code: 'SignatureDoesNotMatch' });
    // The body is covered: the same signature with another body is refused.
    const tampered = await fetch(url, { method: 'POST', headers: sent, body: '{"x":1}' });
    expect(await tampered.json()).toMatchObject({ Code: 'ContentSHA256Mismatch' });
    const missing = await fc('POST', '/2023-03-30/functions/nope/invocations', { 'x-fc-invocation-type': 'Async' }, '{}');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ Code: 'FunctionNotFound' });
  });

  it('answers 202 with the task id, 409 for a repeated id, and runs the task to Succeeded with its payload; onSuccess gets a record', async () => {
    const r = await fc('POST', '/2023-03-30/functions/ok/invocations', { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': 'task-1' }, '{"a":1}');
    expect(r.status).toBe(202);
    expect(r.headers.get('x-fc-async-task-id')).toBe('task-1');
    const again = await fc('POST', '/2023-03-30/functions/ok/invocations', { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': 'task-1' }, '{"a":1}');
    expect(again.status).toBe(409);
    const t = await waitFor('ok', 'task-1', ['Succeeded', 'Failed']);
    expect(t).toMatchObject({ status: 'Succeeded', returnPayload: '{"fine":true}', alreadyRetriedTimes: 0, invocationPayload: '{"a":1}' });
    expect((t.events as { status: string }[]).map((e) => e.status)).toEqual(['Enqueued', 'Dequeued', 'Running', 'Succeeded']);
    await server.idle();
    expect(JSON.parse(successes[0])).toMatchObject({ requestContext: { condition: 'Success', functionArn: 'acs:fc:cn-hangzhou:1234567890:functions/ok' }, requestPayload: '{"a":1}', responsePayload: '{"fine":true}' });
    const badId = await fc('POST', '/2023-03-30/functions/ok/invocations', { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': '9starts-with-digit' }, '{}');
    expect(badId.status).toBe(400);
  });

  it('retries a failing task maxAsyncRetryAttempts times, then Failed, and dead-letters it to onFailure', async () => {
    await fc('POST', '/2023-03-30/functions/flaky/invocations', { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': 'flaky-1' }, '{"n":1}');
    const t = await waitFor('flaky', 'flaky-1', ['Failed', 'Succeeded']);
    expect(t).toMatchObject({ status: 'Failed', alreadyRetriedTimes: 2, taskErrorMessage: 'boom' });
    expect(alwaysFails).toBe(3);
    expect((t.events as { status: string }[]).filter((e) => e.status === 'Retrying')).toHaveLength(2);
    await server.idle();
    expect(JSON.parse(deadLetters[0])).toMatchObject({ requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 }, requestPayload: '{"n":1}', responsePayload: 'boom' });
    // PutAsyncInvokeConfig changes it; out-of-range values are refused.
    const put = await fc('PUT', '/2023-03-30/functions/flaky/async-invoke-config', { 'content-type': 'application/json' }, JSON.stringify({ maxAsyncRetryAttempts: 0 }));
    expect(put.status).toBe(200);
    await fc('POST', '/2023-03-30/functions/flaky/invocations', { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': 'flaky-2' }, '{}');
    expect(await waitFor('flaky', 'flaky-2', ['Failed'])).toMatchObject({ alreadyRetriedTimes: 0 });
    const invalid = await fc('PUT', '/2023-03-30/functions/flaky/async-invoke-config', { 'content-type': 'application/json' }, JSON.stringify({ maxAsyncRetryAttempts: 9 }));
    expect(invalid.status).toBe(400);
  });

  it('expires a task older than maxAsyncEventAgeInSeconds, stops a queued one, lists tasks, and retries an injected crash', async () => {
    for (const id of ['slow-1', 'slow-2', 'slow-3']) await fc('POST', '/2023-03-30/functions/slow/invocations', { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': id }, '{}');
    const stop = await fc('PUT', '/2023-03-30/functions/slow/async-tasks/slow-3/stop');
    expect(stop.status).toBe(200);
    expect(await waitFor('slow', 'slow-1', ['Succeeded'])).toMatchObject({ returnPayload: 'slow' });
    expect(await waitFor('slow', 'slow-2', ['Expired', 'Succeeded'])).toMatchObject({ status: 'Expired' });
    expect(await waitFor('slow', 'slow-3', ['Stopped', 'Succeeded', 'Expired'])).toMatchObject({ status: 'Stopped' });
    const list = (await (await fc('GET', '/2023-03-30/functions/slow/async-tasks?prefix=slow-&limit=2')).json()) as { asyncTasks: { taskId: string }[]; nextToken?: string };
    expect(list.asyncTasks.map((t) => t.taskId)).toEqual(['slow-1', 'slow-2']);
    expect(list.nextToken).toBe('slow-2');
    server.fc!.setFaults({ crashRuns: 1 });
    await fc('POST', '/2023-03-30/functions/ok/invocations', { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': 'crash-1' }, '{}');
    expect(await waitFor('ok', 'crash-1', ['Succeeded', 'Failed'])).toMatchObject({ status: 'Succeeded', alreadyRetriedTimes: 1 });
  });
});

describe('imgpipe backfill run --invoke fc:NAME against the local FC endpoint', () => {
  it('fans out chunks with deterministic task ids through throttling, processes exactly the missing and stale objects, and a resubmitted chunk counts via 409', async () => {
    const env = { IMGPIPE_OSS_ENDPOINT: server.endpoint };
    server.fc!.setFaults({ throttle: 3, unavailable: 2, qosDelayMs: 20 });
    const before = server.fc!.runs['imgpipe-upload'] ?? 0;
    const r = await cli(['backfill', 'run', 'oss://photos/uploads/', '--target', 'oss://photos-out', '--invoke', 'fc:imgpipe-upload', '--fc-endpoint', server.fcEndpoint, '--job', 'fcjob', '--chunk', '4', '--json'], { cwd, env });
    const e = seeded.expected;
    const todo = e.missing.length + e.stale.length;
    expect(r.code, r.stderr).toBe(1);
    expect(lastJson(r.stdout)).toMatchObject({ event: 'end', status: 'completed', total: todo, succeeded: todo - seeded.corrupt.length, failed: seeded.corrupt.length });
    const chunks = Math.ceil(todo / 4);
    expect((server.fc!.runs['imgpipe-upload'] ?? 0) - before).toBe(chunks);
    for (let c = 0; c < chunks; c++) expect(server.fc!.tasks.get(`fcjob-c${c}-r0`)?.status).toBe('Succeeded');
    const payload = JSON.parse(server.fc!.tasks.get('fcjob-c0-r0')!.returnPayload!) as HandlerResult;
    expect(payload.results!.every((x) => ['Succeeded', 'PermanentFailure'].includes(x.resultCode))).toBe(true);

    // Forget the last chunk's results, as if the CLI had been killed after submitting it: resume
    // resubmits the same task id, gets 409, reads the task's result, and the function does not run again.
    const records = join(cwd, '.imgpipe-backfill/fcjob/records.jsonl');
    const lines = (await readFile(records, 'utf8')).trim().split('\n');
    const lastChunk = chunks - 1;
    const kept = lines.filter((l) => {
      const rec = JSON.parse(l) as { t: string; i?: number };
      return !(rec.t === 'result' && Math.floor(rec.i! / 4) === lastChunk);
    });
    await writeFile(records, `${kept.join('\n')}\n`);
    const runs = server.fc!.runs['imgpipe-upload'];
    const resumed = await cli(['backfill', 'resume', 'fcjob', '--invoke', 'fc:imgpipe-upload', '--fc-endpoint', server.fcEndpoint, '--json'], { cwd, env });
    expect(lastJson(resumed.stdout)).toMatchObject({ status: 'completed', total: todo, failed: seeded.corrupt.length });
    expect(server.fc!.runs['imgpipe-upload']).toBe(runs);
    const plan = await cli(['backfill', 'plan', 'oss://photos/uploads/', '--target', 'oss://photos-out', '--json'], { cwd, env });
    expect(lastJson(plan.stdout).counts).toEqual({ missing: 0, stale: 0, 'up-to-date': todo + e['up-to-date'].length, skip: e.skip.length });
  }, 180_000);
});
