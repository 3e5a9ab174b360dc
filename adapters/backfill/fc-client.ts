/**
 * `run --invoke fc:NAME[@QUALIFIER]`: each chunk becomes one FC 3.0 async invocation of the upload
 * handler (a batch event), with a deterministic task id `<job>-c<chunk>-r<round>`. A resubmitted
 * chunk (after a kill) gets 409 from FC and counts as submitted; its outcome is then read with
 * GetAsyncTask (`returnPayload` holds the handler's per-object results). Submissions are paced by a
 * token bucket and back off on throttling (429, 503, `x-oss-qos-delay-time`, `Retry-After`).
 */
import { ImgpipeError, describeValue } from '../../src/index.js';
import { signAcs3 } from '../fc/acs3.js';
import type { OssCredentials } from '../oss/credentials.js';
import type { Job, Task } from './job.js';
import { batchEvent } from './local.js';
import { resultsOf } from './report.js';
import type { ChunkResult, Executor } from './run.js';

export interface FcTarget {
  readonly name: string;
  readonly qualifier?: string;
}

export function parseInvokeTarget(s: string): FcTarget {
  const m = /^fc:([A-Za-z_][A-Za-z0-9_-]{0,127})(?:@([A-Za-z0-9_-]{1,128}))?$/.exec(s);
  if (!m) throw new ImgpipeError('INVALID_ARGUMENT', `Expected fc:FUNCTION[@QUALIFIER] (a function name of letters, digits, _ and -) for --invoke but received ${describeValue(s)}`);
  return { name: m[1], qualifier: m[2] };
}

/** A token bucket: `rate` submissions a second, bursts up to `rate`. */
function tokenBucket(rate: number): () => Promise<void> {
  let tokens = rate;
  let last = performance.now();
  let chain = Promise.resolve();
  return () => {
    chain = chain.then(async () => {
      const now = performance.now();
      tokens = Math.min(rate, tokens + ((now - last) / 1000) * rate);
      last = now;
      if (tokens < 1) {
        await new Promise((r) => setTimeout(r, ((1 - tokens) / rate) * 1000));
        tokens = 1;
        last = performance.now();
      }
      tokens -= 1;
    });
    return chain;
  };
}

/** The wait a throttled answer asks for, else exponential backoff with full jitter. */
function throttleDelay(headers: Headers, attempt: number): number {
  const qos = Number(headers.get('x-oss-qos-delay-time'));
  if (Number.isFinite(qos) && qos > 0) return qos;
  const retryAfter = Number(headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  return Math.random() * Math.min(10_000, 100 * 2 ** attempt);
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid']);

export interface FcExecutorOptions {
  readonly job: Job;
  readonly fn: FcTarget;
  readonly credentials: OssCredentials;
  readonly region: string;
  /** FC endpoint (default `https://<account>.<region>.fc.aliyuncs.com`, account from ALIBABA_CLOUD_ACCOUNT_ID). */
  readonly endpoint?: string;
  readonly accountId?: string;
  readonly ratePerSecond?: number;
  /** Throttled answers tolerated per request before the chunk counts as a TemporaryFailure (default 20). */
  readonly maxThrottleRetries?: number;
}

export function createFcExecutor(options: FcExecutorOptions): Executor {
  const { job, fn } = options;
  const account = options.accountId ?? process.env.ALIBABA_CLOUD_ACCOUNT_ID ?? process.env.FC_ACCOUNT_ID;
  if (options.endpoint === undefined && account === undefined) {
    throw new ImgpipeError('INVALID_ARGUMENT', 'Expected --fc-endpoint URL or ALIBABA_CLOUD_ACCOUNT_ID (FC 3.0 endpoints are https://<account>.<region>.fc.aliyuncs.com) but found neither');
  }
  const base = new URL(options.endpoint ?? `https://${account}.${options.region}.fc.aliyuncs.com`);
  const acquire = tokenBucket(options.ratePerSecond ?? 50);
  const maxThrottle = options.maxThrottleRetries ?? 20;
  const fnPath = `/2023-03-30/functions/${fn.name}`;

  async function request(method: string, path: string, headers: Record<string, string>, body?: Uint8Array): Promise<Response | 'throttled'> {
    for (let attempt = 0; ; attempt++) {
      await acquire();
      const query: [string, string][] = fn.qualifier ? [['qualifier', fn.qualifier]] : [];
      const signed = signAcs3({ method, host: base.host, path, query, headers, body }, options.credentials);
      const url = new URL(path.split('/').map(encodeURIComponent).join('/'), base);
      for (const [k, v] of query) url.searchParams.set(k, v);
      let res: Response;
      try {
        // Host is signed, and fetch sets the same value itself (it may not be given to fetch).
        const { host: _host, ...sent } = signed;
        res = await fetch(url, { method, headers: sent, body: body === undefined ? undefined : Buffer.from(body) });
      } catch (e) {
        // The network: as throttling, wait and retry; past the budget the chunk is a TemporaryFailure.
        if (attempt >= maxThrottle) return 'throttled';
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(10_000, 100 * 2 ** attempt)));
        void e;
        continue;
      }
      if (res.status !== 429 && res.status !== 503) return res;
      await res.arrayBuffer();
      if (attempt >= maxThrottle) return 'throttled';
      await new Promise((r) => setTimeout(r, throttleDelay(res.headers, attempt)));
    }
  }

  async function refuse(res: Response, what: string): Promise<never> {
    const text = await res.text();
    let code = `HTTP ${res.status}`;
    let message = text.slice(0, 300);
    try {
      const j = JSON.parse(text) as { Code?: string; Message?: string; code?: string; message?: string };
      code = j.Code ?? j.code ?? code;
      message = j.Message ?? j.message ?? message;
    } catch {
      // Not JSON: keep the text.
    }
    const type = res.status === 403 || res.status === 401 ? 'ACCESS_DENIED' : res.status === 404 ? 'NOT_FOUND' : 'STORAGE_ERROR';
    throw new ImgpipeError(type, `Function Compute refused ${what} for fc:${fn.name}${fn.qualifier ? `@${fn.qualifier}` : ''} at ${base.origin}: ${code}: ${message}`, { details: { status: res.status, code } });
  }

  const temporary = (tasks: readonly Task[], code: string, message: string): ChunkResult[] => tasks.map((t) => ({ i: t.i, status: 'TemporaryFailure', code, message }));

  return {
    async run(chunk, round, tasks): Promise<readonly ChunkResult[]> {
      const taskId = `${job.config.id}-c${chunk}-r${round}`;
      const body = new TextEncoder().encode(JSON.stringify(batchEvent(job, taskId, tasks)));
      const sub = await request('POST', `${fnPath}/invocations`, { 'content-type': 'application/json', 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': taskId }, body);
      if (sub === 'throttled') return temporary(tasks, 'THROTTLED', 'Function Compute kept throttling the submission');
      // 202: accepted now. 409: that task id was submitted before (a resumed job): it counts as submitted.
      if (sub.status !== 202 && sub.status !== 409) await refuse(sub, 'the async invocation');
      await sub.arrayBuffer();
      await job.append([{ t: 'submit', chunk, round, taskId, at: new Date().toISOString() }]);
      for (let wait = 100; ; wait = Math.min(2000, wait * 1.5)) {
        const res = await request('GET', `${fnPath}/async-tasks/${taskId}`, {});
        if (res === 'throttled') return temporary(tasks, 'THROTTLED', 'Function Compute kept throttling GetAsyncTask');
        if (res.status !== 200) await refuse(res, `GetAsyncTask ${taskId}`);
        const t = (await res.json()) as { status?: string; returnPayload?: string; taskErrorMessage?: string };
        if (t.status && TERMINAL.has(t.status)) {
          if (t.status !== 'Succeeded') return temporary(tasks, `FC_${t.status.toUpperCase()}`, `async task ${taskId} ended ${t.status}${t.taskErrorMessage ? `: ${t.taskErrorMessage}` : ''}`);
          let payload: { results?: [] } = {};
          try {
            payload = JSON.parse(t.returnPayload ?? '{}') as { results?: [] };
          } catch {
            return temporary(tasks, 'INTERNAL', `async task ${taskId} returned a payload that is not JSON`);
          }
          return resultsOf(tasks, payload.results);
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    },
  };
}
