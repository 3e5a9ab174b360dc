/**
 * What the Node wrappers of the HTTP handler (`createNodeListener`, `createFcHttpHandler`, so also
 * `imgpipe serve`) add to it: transforms run on a worker pool, a thread per vCPU, so concurrent
 * requests use every core instead of queueing on the one that also answers the sockets; and admission
 * control sized from the instance, so memory stays bounded however many connections arrive (Function
 * Compute sends up to 100 concurrent requests to one instance when instance concurrency is on).
 */
import * as os from 'node:os';
import { isImgpipeError } from '../../src/index.js';
import { createWorkerPool, type WorkerPool } from '../../pool/index.js';
import { createAdmission, type AdmissionOptions } from './admission.js';
import { createWrapperHandler, type FetchHandler, type HandlerOptions } from './handler.js';
import { createEarlyRefusal, type EarlyRefusal } from './early.js';

export interface NodeServingOptions {
  /**
   * The pool transforms run on. Default: one pool per process shared by every handler, a thread per
   * vCPU (`os.availableParallelism()`), threads started on demand; when the worker script is not there
   * (a single-file bundle without it), the calling thread. `false`: always the calling thread.
   */
  readonly pool?: WorkerPool | false;
}

let shared: WorkerPool | null | undefined;

function sharedPool(): WorkerPool | undefined {
  if (shared === undefined) {
    try {
      shared = createWorkerPool();
    } catch (e) {
      // No worker script beside the bundle: the calling thread it is (pass `pool` to choose a script).
      if (!isImgpipeError(e, 'NOT_FOUND')) throw e;
      shared = null;
    }
  }
  return shared ?? undefined;
}

const MB = 1024 * 1024;
/** Requests that may wait for a place under the Node defaults. */
export const MAX_QUEUE = 256;

/**
 * Admission bounds from the instance: two transforms per thread in flight (one running, one reading its
 * source, so no thread idles on I/O), 256 waiting for at most 5 s, and a sixteenth of the memory the
 * process may use for the sources held, between 64 and 512 MB. A waiting request holds no source (a
 * few KB of request), so the queue is sized for the connections an instance meets, not for memory: 64
 * clients on 2 vCPUs wait about 2.5 s each and are all served (ipx serves them too), Function Compute's
 * up to 100 concurrent requests fit, and the 5 s bound, not the count, is what refuses under a storm.
 */
export function instanceAdmission(threads: number): Required<AdmissionOptions> {
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  const memory = Math.min(constrained > 0 ? constrained : Infinity, os.totalmem());
  return {
    maxInFlight: 2 * threads,
    maxQueue: MAX_QUEUE,
    maxSourceBytes: Math.round(Math.min(512 * MB, Math.max(64 * MB, memory / 16))),
    retryAfter: 1,
    maxWaitMs: 5000,
  };
}

/** HandlerOptions with the Node defaults filled in (the caller's own choices kept). */
export function withNodeServing(options: HandlerOptions & NodeServingOptions): HandlerOptions {
  const { pool: choice, ...rest } = options;
  const pool = choice === false ? undefined : choice ?? sharedPool();
  return {
    ...rest,
    runTransform: rest.runTransform ?? pool?.transform,
    admission: rest.admission ?? instanceAdmission(pool?.threads ?? 1),
  };
}

/**
 * The handler a Node wrapper serves (a handler it was given, or one made with the Node defaults), and
 * the refusal it answers before building a Request while the admission refuses (early.ts).
 */
export function servedHandler(options: (HandlerOptions & NodeServingOptions) | FetchHandler): { handle: FetchHandler; refuseEarly?: EarlyRefusal } {
  if (typeof options === 'function') return { handle: options };
  const served = withNodeServing(options);
  // Made here, not in the handler, so that the early refusal and the handler share it.
  const admission = !served.admission ? undefined : 'enter' in served.admission ? served.admission : createAdmission(served.admission);
  return {
    handle: createWrapperHandler({ ...served, admission: admission ?? false }),
    refuseEarly: admission && createEarlyRefusal(options, admission),
  };
}
