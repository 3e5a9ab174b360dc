/**
 * Storage faults, end to end: the real Function Compute upload handler, with the real ali-oss port,
 * against the local OSS-compatible server injecting 503s, timeouts, connection resets, a slow server,
 * PUTs that fail after their body was sent, PUTs whose answer is lost, and permanent 4xx answers.
 *
 * What must hold in every scenario:
 * - transient faults are retried, with exponential backoff and full jitter, a bounded number of times;
 * - a 4xx is never retried;
 * - the invocation either resolves with every output AND the manifest written, or throws (for FC to
 *   retry) with no manifest in the bucket: a manifest exists only beside all six outputs of its ETag;
 * - a thrown invocation, retried once the fault has passed, completes the set.
 * The test prints one row per scenario: faults injected, retries made, outcome.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUploadHandler, type HandlerResult } from '../../adapters/fc/handler.js';
import { startLocalOss, type Faults, type LocalOss } from '../../adapters/local-oss/server.js';
import { createOssStorageFactory } from '../../adapters/oss/storage.js';
import { isImgpipeError } from '../../src/errors.js';
import { IMAGES } from '../helpers/fixtures.js';

const credential = { accessKeyId: 'LTAIstoragefaults01', accessKeySecret: 'storage-faults-secret' };
const context = { requestId: 'req-faults', region: 'cn-hangzhou', credentials: { ...credential } };
/** Small delays so retries cost milliseconds, not seconds; the schedule's shape is what is checked. */
const RETRY = { retries: 3, baseDelayMs: 2, maxDelayMs: 16 } as const;
/** ali-oss's per-request timeout in these runs: long enough for a 2-core machine, short for a hang. */
const TIMEOUT_MS = 1500;

let root: string;
let server: LocalOss;
let source: Uint8Array;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgpipe-faults-'));
  server = await startLocalOss({ root, buckets: ['photos', 'photos-out'], credentials: [credential] });
  source = new Uint8Array(await readFile(`${IMAGES}320x240.jpg`));
});

afterAll(async () => {
  console.log(`\nstorage faults (retries ${RETRY.retries}, backoff ${RETRY.baseDelayMs}-${RETRY.maxDelayMs} ms with full jitter):\n${table(rows)}`);
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

const SIZES = ['large', 'medium', 'thumb'];
const outputsOf = (name: string) => SIZES.flatMap((s) => [`resized/${s}/${name}.jpg`, `webp/${s}/${name}.webp`]);
const manifestOf = (name: string) => `meta/${name}.json`;

interface Row {
  scenario: string;
  faults: string;
  retries: number;
  outcome: string;
}
const rows: Row[] = [];

function table(list: readonly Row[]): string {
  const head: Row = { scenario: 'scenario', faults: 'faults injected', retries: -1, outcome: 'outcome' };
  const cells = [head, ...list].map((r) => [r.scenario, r.faults, r.retries < 0 ? 'retries' : String(r.retries), r.outcome]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

/** Injected-fault counters from the server, as a delta since `before`. */
function faultDelta(before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(server.stats)) if (k.startsWith('fault:') && v - (before[k] ?? 0) > 0) out[k.slice(6)] = v - (before[k] ?? 0);
  return out;
}

/** A deterministic random source that remembers what it returned, to check each delay against it. */
function recordingRandom(seed: number): { next: () => number; values: number[] } {
  let s = seed >>> 0;
  const values: number[] = [];
  return {
    values,
    next: () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const v = s / 2 ** 32;
      values.push(v);
      return v;
    },
  };
}

interface Retry {
  attempt: number;
  delayMs: number;
}

/** A handler on the real OSS port with its own retry log. */
function makeHandler(seed: number) {
  const random = recordingRandom(seed);
  const retries: Retry[] = [];
  const upload = createUploadHandler({
    sourceBucket: 'photos',
    targetBucket: 'photos-out',
    sourcePrefix: 'uploads/',
    storage: createOssStorageFactory({
      credentials: credential,
      endpoint: server.endpoint,
      timeoutMs: TIMEOUT_MS,
      retry: { ...RETRY, random: random.next, onRetry: ({ attempt, delayMs }) => retries.push({ attempt, delayMs }) },
    }),
    log: () => {},
  });
  return { upload, retries, random };
}

function event(key: string, etag: string, size: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({
    events: [{
      eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', eventTime: new Date().toISOString(), eventVersion: '1.0', region: 'cn-hangzhou',
      oss: { bucket: { arn: 'acs:oss:cn-hangzhou:1:photos', name: 'photos' }, object: { key, eTag: etag, size, deltaSize: size, objectMeta: { mimeType: 'image/jpeg' } }, ossSchemaVersion: '1.0' },
      responseElements: { requestId: `R-${key}` },
    }],
  }));
}

/** What the target bucket holds for one source: which outputs exist, and whether the manifest does. */
async function bucketState(name: string, etag: string) {
  const out = server.storage('photos-out');
  const heads = await Promise.all(outputsOf(name).map((k) => out.head(k)));
  const manifest = await out.head(manifestOf(name));
  return {
    outputs: heads.filter((h) => h !== undefined && h.meta['imgpipe-source-etag'] === etag).length,
    manifest: manifest !== undefined && manifest.meta['imgpipe-source-etag'] === etag,
  };
}

type Result = { ok: true; value: HandlerResult } | { ok: false; error: unknown };
const settle = (p: Promise<HandlerResult>): Promise<Result> => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
const describeResult = (r: Result) => (r.ok ? r.value.outcomes.map((o) => o.status).join(',') : `threw ${isImgpipeError(r.error) ? r.error.code : String(r.error)}`);

/**
 * Run one scenario: seed a source, inject `faults`, invoke the handler, check the all-or-nothing
 * invariant and the retry schedule; when it threw, clear the faults and invoke again as FC would.
 */
async function scenario(name: string, faults: Faults, seed: number) {
  const key = `uploads/${name}.jpg`;
  const base = `uploads/${name}`;
  const { etag } = await server.storage('photos').put(key, source, { contentType: 'image/jpeg' });
  const { upload, retries, random } = makeHandler(seed);
  const statsBefore = { ...server.stats };
  const putsBefore = server.stats.PutObject ?? 0;
  server.setFaults(faults);
  const first = await settle(upload.handler(event(key, etag, source.length), context));
  server.setFaults({});
  const injected = faultDelta(statsBefore);
  const putsAtSettle = server.stats.PutObject ?? 0;
  const state = await bucketState(base, etag);

  // All or nothing: a manifest only beside every output; a resolved run has both; a thrown one no manifest.
  if (state.manifest) expect(state.outputs, `${name}: manifest without all outputs`).toBe(6);
  if (first.ok) {
    expect(first.value.outcomes[0]).toMatchObject({ status: 'processed', variants: 6 });
    expect(state).toEqual({ outputs: 6, manifest: true });
  } else {
    expect(state.manifest, `${name}: thrown but manifest written`).toBe(false);
  }
  // Backoff with full jitter: retry n waits floor(r * min(max, base * 2^(n-1))) for the r drawn for it.
  retries.forEach((r, i) => {
    const ceiling = Math.min(RETRY.maxDelayMs, RETRY.baseDelayMs * 2 ** (r.attempt - 1));
    expect(r.attempt).toBeGreaterThanOrEqual(1);
    expect(r.attempt).toBeLessThanOrEqual(RETRY.retries);
    expect(r.delayMs).toBe(Math.floor(random.values[i] * ceiling));
  });

  let outcome = describeResult(first);
  let retried: Result | undefined;
  if (!first.ok) {
    // Nothing keeps writing once the invocation has reported failure (FC may freeze the instance).
    await new Promise((r) => setTimeout(r, 100));
    expect(server.stats.PutObject ?? 0, `${name}: PUTs after the invocation failed`).toBe(putsAtSettle);
    retried = await settle(makeHandler(seed + 1).upload.handler(event(key, etag, source.length), context));
    expect(describeResult(retried)).toBe('processed');
    expect(await bucketState(base, etag)).toEqual({ outputs: 6, manifest: true });
    outcome += `; FC retry: ${describeResult(retried)}`;
  }
  const faultText = Object.entries(injected).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
  rows.push({ scenario: name, faults: faultText, retries: retries.length, outcome });
  return { first, injected, retries, puts: putsAtSettle - putsBefore };
}

describe('upload handler against a faulty OSS (real ali-oss, real HTTP)', () => {
  it('no faults: every output and the manifest, without a retry', async () => {
    const r = await scenario('baseline', {}, 1);
    expect(r.first.ok).toBe(true);
    expect(r.retries).toEqual([]);
    expect(r.puts).toBe(7);
  });

  it('503 on PUTs: retried, complete', async () => {
    const r = await scenario('put-503', { failPuts: 3, status: 503 }, 2);
    expect(r.first.ok).toBe(true);
    expect(r.injected).toEqual({ put: 3 });
    expect(r.retries).toHaveLength(3);
  });

  it('503 on the source GET: retried, complete', async () => {
    const r = await scenario('get-503', { failGets: 2, status: 503 }, 3);
    expect(r.first.ok).toBe(true);
    expect(r.injected).toEqual({ get: 2 });
    expect(r.retries.map((x) => x.attempt)).toEqual([1, 2]);
  });

  it('connection resets: retried, complete', async () => {
    const r = await scenario('reset', { resetConnections: 3 }, 4);
    expect(r.first.ok).toBe(true);
    expect(r.injected).toEqual({ reset: 3 });
    expect(r.retries).toHaveLength(3);
  });

  it('timeouts (the server never answers): retried after the client gives up, complete', async () => {
    const r = await scenario('timeout', { timeouts: 2, hangMs: 10_000 }, 5);
    expect(r.first.ok).toBe(true);
    expect(r.injected).toEqual({ timeout: 2 });
    expect(r.retries).toHaveLength(2);
  });

  it('a slow server (every answer delayed, within the timeout): no retries, complete', async () => {
    const r = await scenario('slow', { delayMs: 150 }, 6);
    expect(r.first.ok).toBe(true);
    // Every request was held back: the idempotency HEAD, source HEAD and GET, six outputs and the manifest.
    expect(r.injected.delay).toBeGreaterThanOrEqual(10);
    expect(r.retries).toEqual([]);
  });

  it('PUTs dropped after their body was sent: retried, complete', async () => {
    const r = await scenario('put-reset-after-body', { resetPutsAfterBody: 2 }, 7);
    expect(r.first.ok).toBe(true);
    expect(r.injected).toEqual({ 'reset-after-body': 2 });
    expect(r.retries).toHaveLength(2);
  });

  it('PUTs stored but their answer lost: the retried PUT is harmless, complete', async () => {
    const r = await scenario('put-answer-lost', { losePutResponses: 2 }, 8);
    expect(r.first.ok).toBe(true);
    expect(r.injected).toEqual({ 'lost-response': 2 });
    expect(r.retries).toHaveLength(2);
    expect(r.puts).toBe(9);
  });

  it('an outage on one output outlasting the retries: bounded attempts, throws, no manifest; FC retry completes', async () => {
    const r = await scenario('put-503-persistent', { failPuts: 100, status: 503, keys: /^webp\/medium\// }, 9);
    expect(r.first.ok).toBe(false);
    expect(isImgpipeError((r.first as { error: unknown }).error, 'STORAGE_ERROR')).toBe(true);
    expect(((r.first as { error: Error }).error).message).toMatch(/^OSS PutObject of "webp\/medium\/uploads\/put-503-persistent.webp" in bucket "photos-out" failed: ServiceUnavailable \(HTTP 503\)/);
    // Exactly 1 + retries attempts at the failing key.
    expect(r.injected).toEqual({ put: RETRY.retries + 1 });
    expect(r.retries).toHaveLength(RETRY.retries);
  });

  it('timeouts outlasting the retries on the manifest: throws before writing anything; FC retry completes', async () => {
    const r = await scenario('manifest-timeout', { timeouts: 100, hangMs: 10_000, keys: /^meta\// }, 10);
    expect(r.first.ok).toBe(false);
    expect(isImgpipeError((r.first as { error: unknown }).error, 'STORAGE_ERROR')).toBe(true);
    // The first HEAD of the manifest (idempotency check) and its retries time out already.
    expect(r.injected).toEqual({ timeout: RETRY.retries + 1 });
    expect(r.puts).toBe(0);
  });

  it('the manifest PUT failing for good: every output, no manifest, throws; FC retry completes', async () => {
    const r = await scenario('manifest-put-503', { failPuts: 100, status: 503, keys: /^meta\// }, 11);
    expect(r.first.ok).toBe(false);
    expect(r.puts).toBe(6);
    expect(r.injected).toEqual({ put: RETRY.retries + 1 });
  });

  it('a permanent 403 on a PUT: not retried, throws ACCESS_DENIED, no manifest', async () => {
    const r = await scenario('put-403', { failPuts: 1, status: 403, keys: /^resized\/large\// }, 12);
    expect(r.first.ok).toBe(false);
    const e = (r.first as { error: unknown }).error;
    expect(isImgpipeError(e, 'ACCESS_DENIED')).toBe(true);
    expect((e as Error).message).toMatch(/^OSS PutObject of "resized\/large\/uploads\/put-403.jpg" in bucket "photos-out" failed: AccessDenied \(HTTP 403\)/);
    expect(r.injected).toEqual({ put: 1 });
    expect(r.retries).toEqual([]);
  });

  it('a permanent 400 on the source GET: not retried, throws, nothing written', async () => {
    const r = await scenario('get-400', { failGets: 1, status: 400 }, 13);
    expect(r.first.ok).toBe(false);
    expect(isImgpipeError((r.first as { error: unknown }).error, 'STORAGE_ERROR')).toBe(true);
    expect(((r.first as { error: Error }).error).message).toContain('InvalidArgument (HTTP 400)');
    expect(r.injected).toEqual({ get: 1 });
    expect(r.retries).toEqual([]);
    expect(r.puts).toBe(0);
  });
});
