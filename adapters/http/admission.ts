/**
 * Admission control for the transforms an HTTP handler runs: at most `maxInFlight` run (or read their
 * source) at once, a new one starts only while the sources held stay under `maxSourceBytes`, at most
 * `maxQueue` wait in order for a place, and anything beyond is refused at once with OSS's 503
 * `SlowDown` and a `Retry-After`, so memory stays bounded whatever the number of connections and a
 * refused client knows when to come back. Waiting requests hold nothing: they read their source only
 * once admitted. Runtime-neutral (no Node built-ins); the Node wrappers size it from the instance.
 */
import { ImgpipeError, describeValue } from '../../src/index.js';

export interface AdmissionOptions {
  /** Transforms running or reading their source at once (1..4096). */
  readonly maxInFlight?: number;
  /** Requests waiting for a place (0..65536); beyond it, 503 SlowDown. */
  readonly maxQueue?: number;
  /** Source bytes the running transforms may hold; no new one starts while they hold this much. */
  readonly maxSourceBytes?: number;
  /**
   * Least seconds a refused client is told to wait (`Retry-After`, 1..3600). The value sent adds a
   * random share of the time the running and waiting transforms need at the recent pace, so refused
   * clients that honour it come back spread out, not all in the same second.
   */
  readonly retryAfter?: number;
  /**
   * Longest a request waits for a place, in ms (1..600000); then it too is refused with SlowDown, so a
   * client hears 503 with Retry-After before its own timeout rather than waiting blind. At its turn, a
   * request whose wait plus the recent time a place is held passes this is refused too (a place held
   * for seconds, a large source on a busy instance, would answer it after that), so an admitted
   * request is answered within about maxWaitMs. A request is
   * never refused on arrival for a wait it might have: a guess from the recent pace turned a slow
   * second (a long transform, a busy machine) into a burst of refusals while the queue was short, and
   * clients that retry at once then fed the burst. Only a full queue refuses at once.
   */
  readonly maxWaitMs?: number;
}

export interface AdmissionStats {
  readonly inFlight: number;
  readonly queued: number;
  readonly bytesHeld: number;
  /** Highest values seen since the admission was made. */
  readonly peakInFlight: number;
  readonly peakQueued: number;
  readonly peakBytesHeld: number;
  readonly admitted: number;
  readonly refused: number;
}

/** A place among the running transforms; `leave()` gives it back (and the bytes it held). */
export interface AdmissionPass {
  /** The request now holds `bytes` of source. */
  hold(bytes: number): void;
  leave(): void;
}

export interface Admission {
  readonly options: Required<AdmissionOptions>;
  /** True when a request would start at once. */
  free(): boolean;
  /** True when a request arriving now would be refused at once (the queue is full). */
  refusing(): boolean;
  /**
   * For a request arriving now that would be refused at once: counts it refused and says why and when
   * to come back, without making an error or a promise (the Node listener's 503 from prebuilt parts).
   * Undefined when it would start or wait.
   */
  refuseNow(): { readonly message: string; readonly retryAfter: number } | undefined;
  /** Waits for a place; throws ImgpipeError OVERLOADED (503 SlowDown) when the queue is full or after maxWaitMs, ABORTED when `signal` fires. */
  enter(signal?: AbortSignal): Promise<AdmissionPass>;
  stats(): AdmissionStats;
}

/** Defaults for a runtime that does not know its instance (the Node wrappers size it from cores and memory). */
export const DEFAULT_ADMISSION: Required<AdmissionOptions> = Object.freeze({
  maxInFlight: 4,
  maxQueue: 64,
  maxSourceBytes: 256 * 1024 * 1024,
  retryAfter: 1,
  maxWaitMs: 5000,
});

function checkInt(name: keyof AdmissionOptions, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between ${min} and ${max} for admission.${name} but received ${describeValue(v)}`);
  }
}

export function createAdmission(options: AdmissionOptions = {}): Admission {
  checkInt('maxInFlight', options.maxInFlight, 1, 4096);
  checkInt('maxQueue', options.maxQueue, 0, 65536);
  checkInt('maxSourceBytes', options.maxSourceBytes, 1, Number.MAX_SAFE_INTEGER);
  checkInt('retryAfter', options.retryAfter, 1, 3600);
  checkInt('maxWaitMs', options.maxWaitMs, 1, 600_000);
  const o: Required<AdmissionOptions> = Object.freeze({ ...DEFAULT_ADMISSION, ...stripUndefined(options) });
  const waiting: { readonly since: number; start(): void; refuse(why: string): void }[] = [];
  let inFlight = 0, bytesHeld = 0, admitted = 0, refused = 0;
  let peakInFlight = 0, peakQueued = 0, peakBytesHeld = 0;
  // How long a place is held, smoothed over recent transforms (0 until one has finished).
  let heldMs = 0;

  // One request may hold more than the byte budget alone (a single large source is still served).
  const room = () => inFlight < o.maxInFlight && (bytesHeld < o.maxSourceBytes || inFlight === 0);

  function pass(): AdmissionPass {
    inFlight++;
    admitted++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    let held = 0, left = false;
    const since = Date.now();
    return {
      hold(bytes) {
        if (left) return;
        held += bytes;
        bytesHeld += bytes;
        peakBytesHeld = Math.max(peakBytesHeld, bytesHeld);
      },
      leave() {
        if (left) return;
        left = true;
        const ms = Date.now() - since;
        heldMs = heldMs === 0 ? ms : 0.8 * heldMs + 0.2 * ms;
        inFlight--;
        bytesHeld -= held;
        drain();
      },
    };
  }

  function drain(): void {
    while (waiting.length > 0 && room()) {
      const next = waiting[0];
      // Admitted now, it would hold its place about heldMs more: when that takes it past maxWaitMs in
      // all, it hears 503 at its turn rather than an answer after its client may have given up (a
      // large source on a busy instance: places held for seconds), and the place goes to the next.
      const waited = Date.now() - next.since;
      if (heldMs > 0 && waited + heldMs > o.maxWaitMs) next.refuse(`this request waited ${waited} ms and a place is held about ${Math.round(heldMs)} ms at the recent pace (maxWaitMs ${o.maxWaitMs})`);
      else next.start();
    }
  }

  /** Why a request arriving now is refused at once (the queue is full); undefined when it starts or may wait. */
  function refusal(): string | undefined {
    if (waiting.length === 0 && room()) return undefined;
    return waiting.length >= o.maxQueue ? `${waiting.length} are waiting (maxQueue ${o.maxQueue})` : undefined;
  }

  function refuse(why: string): { message: string; retryAfter: number } {
    refused++;
    // Everything admitted now (running and waiting) is done after about this long at the recent pace;
    // refused clients are spread over it rather than all told the same second.
    const drainS = (heldMs * (inFlight + waiting.length)) / o.maxInFlight / 1000;
    const retryAfter = Math.min(3600, o.retryAfter + Math.floor(Math.random() * (drainS + 1)));
    return {
      message: `Expected room for the transform but ${inFlight} are running (admission.maxInFlight ${o.maxInFlight}), holding ${bytesHeld} source bytes (maxSourceBytes ${o.maxSourceBytes}), and ${why}: retry after ${retryAfter} s`,
      retryAfter,
    };
  }

  function overloaded(why: string): ImgpipeError {
    const { message, retryAfter } = refuse(why);
    return new ImgpipeError('OVERLOADED', message, { details: { retryAfter } });
  }

  return {
    options: o,
    free: () => waiting.length === 0 && room(),
    refusing: () => refusal() !== undefined,
    refuseNow() {
      const why = refusal();
      return why === undefined ? undefined : refuse(why);
    },
    enter(signal) {
      if (signal?.aborted) return Promise.reject(aborted());
      if (waiting.length === 0 && room()) return Promise.resolve(pass());
      const why = refusal();
      if (why !== undefined) return Promise.reject(overloaded(why));
      return new Promise<AdmissionPass>((resolve, reject) => {
        const leaveQueue = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const at = waiting.indexOf(entry);
          if (at >= 0) waiting.splice(at, 1);
        };
        const entry = {
          since: Date.now(),
          start: () => { leaveQueue(); resolve(pass()); },
          refuse: (why: string) => { leaveQueue(); reject(overloaded(why)); },
        };
        const onAbort = () => { leaveQueue(); reject(aborted()); };
        const timer = setTimeout(() => entry.refuse(`this request waited ${o.maxWaitMs} ms (maxWaitMs)`), o.maxWaitMs);
        // A waiting request alone does not keep a process alive.
        (timer as { unref?: () => void }).unref?.();
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(entry);
        peakQueued = Math.max(peakQueued, waiting.length);
      });
    },
    stats: () => Object.freeze({ inFlight, queued: waiting.length, bytesHeld, peakInFlight, peakQueued, peakBytesHeld, admitted, refused }),
  };
}

function aborted(): ImgpipeError {
  return new ImgpipeError('ABORTED', 'Expected to wait for a place among the running transforms but the request was aborted');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
