/**
 * Function Compute 3.0's async invocation API, emulated on the local server, so the backfill's
 * fan-out (and anything else that invokes FC asynchronously) is tested against real HTTP without a
 * cloud or Docker (`s local` is the only other emulator). It runs the real handler in-process.
 *
 * Reproduced (see the README in this folder for the list of what is not):
 * - `POST /2023-03-30/functions/{name}/invocations[?qualifier=]`, signed with ACS3-HMAC-SHA256;
 *   `x-fc-invocation-type: Async` answers 202 with `x-fc-async-task-id` (given, or generated); a task
 *   id already used answers 409; an async body over 128 KB answers 413; Sync runs the handler and
 *   answers its result (a thrown error: 200 with `x-fc-error-type: UnhandledInvocationError`);
 * - task states Enqueued, Dequeued, Running, Retrying, Succeeded, Failed, Stopping, Stopped, Expired;
 *   `GET …/async-tasks/{id}` (GetAsyncTask, with `returnPayload`, `alreadyRetriedTimes`, `durationMs`,
 *   `taskErrorMessage`, `events`), `GET …/async-tasks` (ListAsyncTasks: status, prefix, limit,
 *   nextToken), `PUT …/async-tasks/{id}/stop` (StopAsyncTask);
 * - `PUT|GET …/async-invoke-config`: `maxAsyncRetryAttempts` (default 3) retries after a thrown error,
 *   with exponential backoff; `maxAsyncEventAgeInSeconds` (default 86400) expires a task that waited
 *   longer; `destinationConfig.onSuccess|onFailure` with an FC function ARN receives a record of the
 *   invocation as an async event;
 * - instance concurrency (tasks of one function running at once, default 2);
 * - fault injection: throttled (429) and unavailable (503, with `x-oss-qos-delay-time`) answers, and
 *   runs that crash before the handler is reached (retried like a thrown error).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyAcs3, type Acs3Credential } from '../fc/acs3.js';
import type { FcContext, FcEventHandler } from '../fc/context.js';

export type AsyncTaskStatus = 'Enqueued' | 'Dequeued' | 'Running' | 'Retrying' | 'Succeeded' | 'Failed' | 'Stopping' | 'Stopped' | 'Expired' | 'Invalid';

export interface AsyncInvokeConfig {
  readonly maxAsyncRetryAttempts?: number;
  readonly maxAsyncEventAgeInSeconds?: number;
  readonly destinationConfig?: { readonly onSuccess?: { readonly destination: string }; readonly onFailure?: { readonly destination: string } };
}

export interface FcFunction extends AsyncInvokeConfig {
  readonly handler: FcEventHandler;
  /** Tasks of this function running at once (FC: instances x instanceConcurrency). Default 2. */
  readonly instances?: number;
}

export interface FcFaults {
  /** Answer this many invocation requests 429 TooManyRequests. */
  throttle?: number;
  /** Answer this many invocation requests 503 with `x-oss-qos-delay-time: qosDelayMs`. */
  unavailable?: number;
  qosDelayMs?: number;
  /** Crash this many runs before the handler is reached (an instance lost); retried per the config. */
  crashRuns?: number;
}

export interface FcEmulatorOptions {
  readonly functions: Readonly<Record<string, FcEventHandler | FcFunction>>;
  readonly credentials: readonly Acs3Credential[];
  readonly region: string;
  readonly accountId?: string;
  /** First retry delay in ms (doubles each retry; default 100, FC's is seconds to minutes). */
  readonly retryDelayMs?: number;
  readonly faults?: FcFaults;
}

interface TaskEvent { readonly status: AsyncTaskStatus; readonly timestamp: number; readonly eventDetail?: string }

export interface AsyncTask {
  readonly taskId: string;
  readonly functionName: string;
  readonly qualifier: string;
  status: AsyncTaskStatus;
  readonly payload: Buffer;
  readonly submitTime: number;
  requestId: string;
  alreadyRetriedTimes: number;
  startedTime?: number;
  endTime?: number;
  durationMs?: number;
  taskErrorMessage?: string;
  returnPayload?: string;
  readonly events: TaskEvent[];
  stopRequested: boolean;
}

export interface FcEmulator {
  /** Handles the request when its path is FC's; false when it is not (the OSS routes take it). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  readonly tasks: ReadonlyMap<string, AsyncTask>;
  /** How many times each function's handler was entered (crashes excluded). */
  readonly runs: Readonly<Record<string, number>>;
  setFaults(f: FcFaults): void;
  /** Resolves when no task is queued, running or waiting to retry. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const PREFIX = '/2023-03-30/functions/';
const TERMINAL: readonly AsyncTaskStatus[] = ['Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid'];
const MAX_ASYNC_BODY = 128 * 1024;

export function createFcEmulator(options: FcEmulatorOptions): FcEmulator {
  const accountId = options.accountId ?? '1234567890';
  const functions = new Map<string, FcFunction>();
  const configs = new Map<string, AsyncInvokeConfig>();
  for (const [name, f] of Object.entries(options.functions)) {
    const fn = typeof f === 'function' ? { handler: f } : f;
    functions.set(name, fn);
    configs.set(name, { maxAsyncRetryAttempts: fn.maxAsyncRetryAttempts, maxAsyncEventAgeInSeconds: fn.maxAsyncEventAgeInSeconds, destinationConfig: fn.destinationConfig });
  }
  let faults: FcFaults = { ...options.faults };
  const tasks = new Map<string, AsyncTask>();
  const queues = new Map<string, AsyncTask[]>();
  const running = new Map<string, number>();
  const runs: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  let closed = false;
  const arn = (name: string) => `acs:fc:${options.region}:${accountId}:functions/${name}`;
  const take = (k: 'throttle' | 'unavailable' | 'crashRuns') => {
    const left = faults[k] ?? 0;
    if (left <= 0) return false;
    faults[k] = left - 1;
    return true;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const requestId = headers['x-fc-request-id'] ?? randomUUID();
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'x-fc-request-id': requestId, 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const fail = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) => {
    const requestId = randomUUID();
    send(res, status, { Code: code, Message: message, RequestId: requestId }, { 'x-fc-request-id': requestId, ...headers });
  };

  const view = (t: AsyncTask) => ({
    taskId: t.taskId, status: t.status, functionArn: arn(t.functionName), qualifier: t.qualifier, requestId: t.requestId,
    alreadyRetriedTimes: t.alreadyRetriedTimes, durationMs: t.durationMs, startedTime: t.startedTime, endTime: t.endTime,
    taskErrorMessage: t.taskErrorMessage, returnPayload: t.returnPayload, invocationPayload: t.payload.toString('utf8'),
    events: t.events.map((e, i) => ({ eventId: i + 1, status: e.status, timestamp: e.timestamp, eventDetail: e.eventDetail })),
  });

  const setStatus = (t: AsyncTask, status: AsyncTaskStatus, detail?: string) => {
    t.status = status;
    t.events.push({ status, timestamp: Date.now(), eventDetail: detail });
  };

  function enqueue(name: string, taskId: string, qualifier: string, payload: Buffer): AsyncTask {
    const t: AsyncTask = { taskId, functionName: name, qualifier, status: 'Enqueued', payload, submitTime: Date.now(), requestId: randomUUID(), alreadyRetriedTimes: 0, events: [], stopRequested: false };
    t.events.push({ status: 'Enqueued', timestamp: t.submitTime });
    tasks.set(taskId, t);
    const q = queues.get(name) ?? [];
    q.push(t);
    queues.set(name, q);
    pump(name);
    return t;
  }

  /** A destination gets the invocation's record as an async event (FC's schema is unconfirmed; this mirrors Lambda's). */
  function deliver(t: AsyncTask, condition: 'Success' | 'RetriesExhausted' | 'EventMaxAgeExceeded' | 'Stopped'): void {
    const config = configs.get(t.functionName);
    const dest = condition === 'Success' ? config?.destinationConfig?.onSuccess : config?.destinationConfig?.onFailure;
    const m = dest && /^acs:fc:[^:]*:[^:]*:functions\/([^/]+)$/.exec(dest.destination);
    if (!m || !functions.has(m[1])) return;
    const record = {
      timestamp: new Date().toISOString(),
      requestContext: { requestId: t.requestId, functionArn: arn(t.functionName), condition, approximateInvokeCount: t.alreadyRetriedTimes + (t.startedTime ? 1 : 0) },
      requestPayload: t.payload.toString('utf8'),
      responseContext: { statusCode: 200, functionError: condition === 'Success' ? undefined : 'UnhandledInvocationError' },
      responsePayload: condition === 'Success' ? t.returnPayload : t.taskErrorMessage,
    };
    enqueue(m[1], `dest-${randomUUID()}`, 'LATEST', Buffer.from(JSON.stringify(record)));
  }

  async function runTask(t: AsyncTask): Promise<void> {
    const fn = functions.get(t.functionName)!;
    const config = configs.get(t.functionName) ?? {};
    const maxAge = (config.maxAsyncEventAgeInSeconds ?? 86400) * 1000;
    const maxRetries = config.maxAsyncRetryAttempts ?? 3;
    if (t.stopRequested) {
      setStatus(t, 'Stopped');
      deliver(t, 'Stopped');
      return;
    }
    if (Date.now() - t.submitTime > maxAge) {
      setStatus(t, 'Expired', `older than maxAsyncEventAgeInSeconds (${config.maxAsyncEventAgeInSeconds ?? 86400})`);
      t.endTime = Date.now();
      deliver(t, 'EventMaxAgeExceeded');
      return;
    }
    setStatus(t, 'Dequeued');
    setStatus(t, 'Running');
    t.startedTime ??= Date.now();
    const started = Date.now();
    t.requestId = randomUUID();
    const first = options.credentials[0];
    const context: FcContext = {
      requestId: t.requestId, region: options.region, accountId,
      credentials: { accessKeyId: first.accessKeyId, accessKeySecret: first.accessKeySecret, securityToken: first.securityToken },
      function: { name: t.functionName, handler: 'index.handler' }, service: { qualifier: t.qualifier }, retryCount: t.alreadyRetriedTimes,
    };
    try {
      if (take('crashRuns')) throw new Error('instance crashed (injected fault)');
      runs[t.functionName] = (runs[t.functionName] ?? 0) + 1;
      const result = await fn.handler(Buffer.from(t.payload), context);
      t.durationMs = Date.now() - started;
      t.endTime = Date.now();
      t.returnPayload = Buffer.isBuffer(result) ? result.toString('utf8') : typeof result === 'string' ? result : JSON.stringify(result ?? null);
      setStatus(t, t.stopRequested ? 'Stopped' : 'Succeeded');
      deliver(t, t.stopRequested ? 'Stopped' : 'Success');
    } catch (e) {
      t.durationMs = Date.now() - started;
      t.taskErrorMessage = e instanceof Error ? e.message : String(e);
      if (t.stopRequested) {
        setStatus(t, 'Stopped');
        deliver(t, 'Stopped');
      } else if (t.alreadyRetriedTimes < maxRetries && !closed) {
        setStatus(t, 'Retrying', t.taskErrorMessage);
        await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 100) * 2 ** t.alreadyRetriedTimes));
        t.alreadyRetriedTimes++;
        setStatus(t, 'Enqueued');
        const q = queues.get(t.functionName)!;
        q.push(t);
      } else {
        t.endTime = Date.now();
        setStatus(t, 'Failed', t.taskErrorMessage);
        deliver(t, 'RetriesExhausted');
      }
    }
  }

  function pump(name: string): void {
    const fn = functions.get(name)!;
    const q = queues.get(name) ?? [];
    while (!closed && (running.get(name) ?? 0) < (fn.instances ?? 2) && q.length > 0) {
      const t = q.shift()!;
      running.set(name, (running.get(name) ?? 0) + 1);
      const p: Promise<void> = runTask(t).finally(() => {
        running.set(name, running.get(name)! - 1);
        pending.delete(p);
        pump(name);
      });
      pending.add(p);
    }
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://fc.local');
    if (!url.pathname.startsWith(PREFIX)) return false;
    const body = await readBody(req);
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    const query: [string, string][] = [...url.searchParams.entries()];
    const method = (req.method ?? 'GET').toUpperCase();
    const failure = verifyAcs3({ method, path: decodeURIComponent(url.pathname), query, headers, body }, options.credentials);
    if (failure) {
      fail(res, failure.status, failure.code, failure.message);
      return true;
    }
    const parts = url.pathname.slice(PREFIX.length).split('/').map(decodeURIComponent);
    const name = parts[0];
    if (!functions.has(name)) {
      fail(res, 404, 'FunctionNotFound', `function '${name}' does not exist`);
      return true;
    }
    const qualifier = url.searchParams.get('qualifier') ?? 'LATEST';
    const route = `${method} ${parts.slice(1).map((p, i) => (i === 1 && parts[1] === 'async-tasks' ? '{id}' : p)).join('/')}`;
    switch (route) {
      case 'POST invocations': {
        if (take('throttle')) return fail(res, 429, 'TooManyRequests', 'Reduce your concurrent request rate (injected fault).'), true;
        if (take('unavailable')) return fail(res, 503, 'ServiceUnavailable', 'The service is temporarily unavailable (injected fault).', { 'x-oss-qos-delay-time': String(faults.qosDelayMs ?? 50) }), true;
        const type = headers['x-fc-invocation-type'] ?? 'Sync';
        if (type === 'Async') {
          if (body.length > MAX_ASYNC_BODY) return fail(res, 413, 'PayloadTooLarge', `An async invocation body is at most ${MAX_ASYNC_BODY} bytes; received ${body.length}.`), true;
          const id = headers['x-fc-async-task-id'] ?? randomUUID();
          if (!/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/.test(id)) return fail(res, 400, 'InvalidArgument', `x-fc-async-task-id must start with a letter or '_', hold only letters, digits, '_' and '-', and be at most 128 characters; received ${JSON.stringify(id)}.`), true;
          if (tasks.has(id)) return fail(res, 409, 'AsyncTaskIdConflict', `An async task with id ${id} already exists.`), true;
          const t = enqueue(name, id, qualifier, body);
          send(res, 202, undefined, { 'x-fc-async-task-id': t.taskId, 'x-fc-request-id': t.requestId });
          return true;
        }
        if (type !== 'Sync') return fail(res, 400, 'InvalidArgument', `x-fc-invocation-type must be Sync or Async; received ${JSON.stringify(type)}.`), true;
        try {
          runs[name] = (runs[name] ?? 0) + 1;
          const first = options.credentials[0];
          const result = await functions.get(name)!.handler(body, { requestId: randomUUID(), region: options.region, accountId, credentials: { ...first }, function: { name } });
          send(res, 200, result ?? null);
        } catch (e) {
          send(res, 200, { errorMessage: e instanceof Error ? e.message : String(e), errorType: e instanceof Error ? e.name : 'Error' }, { 'x-fc-error-type': 'UnhandledInvocationError' });
        }
        return true;
      }
      case 'GET async-tasks/{id}': {
        const t = tasks.get(parts[2]);
        if (!t || t.functionName !== name) return fail(res, 404, 'AsyncTaskNotFound', `async task ${parts[2]} does not exist`), true;
        send(res, 200, view(t));
        return true;
      }
      case 'GET async-tasks': {
        const status = url.searchParams.get('status');
        const prefix = url.searchParams.get('prefix') ?? '';
        const limit = Number(url.searchParams.get('limit') ?? 20);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) return fail(res, 400, 'InvalidArgument', `limit must be an integer between 1 and 100; received ${url.searchParams.get('limit')}.`), true;
        const all = [...tasks.values()].filter((t) => t.functionName === name && t.taskId.startsWith(prefix) && (!status || t.status === status)).sort((a, b) => (a.taskId < b.taskId ? -1 : 1));
        const after = url.searchParams.get('nextToken');
        const from = after ? all.findIndex((t) => t.taskId > after) : 0;
        const page = from < 0 ? [] : all.slice(from, from + limit);
        send(res, 200, { asyncTasks: page.map(view), nextToken: from >= 0 && from + limit < all.length ? page[page.length - 1].taskId : undefined });
        return true;
      }
      case 'PUT async-tasks/{id}/stop': {
        const t = tasks.get(parts[2]);
        if (!t || t.functionName !== name) return fail(res, 404, 'AsyncTaskNotFound', `async task ${parts[2]} does not exist`), true;
        if (TERMINAL.includes(t.status)) return fail(res, 400, 'AsyncTaskNotStoppable', `async task ${t.taskId} is already ${t.status}`), true;
        t.stopRequested = true;
        if (t.status === 'Running') setStatus(t, 'Stopping');
        send(res, 200, {});
        return true;
      }
      case 'PUT async-invoke-config': {
        let c: AsyncInvokeConfig;
        try {
          c = JSON.parse(body.toString('utf8')) as AsyncInvokeConfig;
        } catch {
          return fail(res, 400, 'InvalidArgument', 'The body must be a JSON AsyncInvokeConfig.'), true;
        }
        const retries = c.maxAsyncRetryAttempts;
        if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > 8)) return fail(res, 400, 'InvalidArgument', `maxAsyncRetryAttempts must be an integer between 0 and 8; received ${JSON.stringify(retries)}.`), true;
        const age = c.maxAsyncEventAgeInSeconds;
        if (age !== undefined && (!Number.isInteger(age) || age < 1 || age > 604800)) return fail(res, 400, 'InvalidArgument', `maxAsyncEventAgeInSeconds must be an integer between 1 and 604800; received ${JSON.stringify(age)}.`), true;
        configs.set(name, { maxAsyncRetryAttempts: retries, maxAsyncEventAgeInSeconds: age, destinationConfig: c.destinationConfig });
        send(res, 200, { functionArn: arn(name), ...configs.get(name) });
        return true;
      }
      case 'GET async-invoke-config':
        send(res, 200, { functionArn: arn(name), ...configs.get(name) });
        return true;
      default:
        fail(res, 404, 'NotFound', `The local FC emulator does not serve ${method} ${url.pathname}.`);
        return true;
    }
  }

  return {
    handle,
    tasks,
    runs,
    setFaults(f) {
      faults = { ...f };
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      closed = true;
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
