/**
 * Lifecycle of one Emscripten codec instance. Three traps in the packaged codecs shape this:
 * - a fatal libjpeg/libwebp error *exits* the Emscripten runtime (it throws an ExitStatus or a bare
 *   number, not an Error), after which the instance is unusable;
 * - warnings (e.g. "Premature end of JPEG file") go to stderr instead of to the caller;
 * - WebAssembly memory never shrinks: one 100-megapixel image leaves a warm instance holding ~400 MB.
 * So: every call captures the codec's messages, any failure throws the instance away, and an instance
 * whose memory grew past `RECYCLE_BYTES` is dropped after the call. A new instance from the already
 * compiled module costs about a millisecond.
 */
import { getWasmModule, type WasmName } from '../wasm.js';

/** Instances whose linear memory grew beyond this are recycled after use (see above). */
export const RECYCLE_BYTES = 64 * 1024 * 1024;

type Factory<M> = (options: Record<string, unknown>) => Promise<M>;

interface Live<M> {
  module: M;
  messages: string[];
  memory: () => number;
}

export class EmscriptenCodec<M extends object> {
  private live?: Promise<Live<M>>;

  constructor(private readonly wasm: WasmName, private readonly factory: Factory<M>) {}

  /** Run `fn` on a healthy instance; `messages` holds what the codec printed during this call. */
  async use<T>(fn: (module: M, messages: readonly string[]) => T): Promise<T> {
    const live = await (this.live ??= this.create());
    live.messages.length = 0;
    try {
      const result = fn(live.module, live.messages);
      if (live.memory() > RECYCLE_BYTES) this.live = undefined;
      return result;
    } catch (e) {
      this.live = undefined;
      throw e;
    }
  }

  /** Forget the current instance (tests and memory-pressure hooks). */
  reset(): void {
    this.live = undefined;
  }

  private async create(): Promise<Live<M>> {
    const compiled = await getWasmModule(this.wasm);
    const messages: string[] = [];
    const record = (m: unknown) => void messages.push(String(m));
    try {
      const module = await this.factory({
        noInitialRun: true,
        print: record,
        printErr: record,
        // Instantiate from our compiled module: the glue never fetches or reads files itself.
        instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
          const instance = new WebAssembly.Instance(compiled, imports);
          done(instance);
          return instance.exports;
        },
      });
      const heap = () => ((module as { HEAPU8?: Uint8Array }).HEAPU8?.byteLength ?? 0);
      return { module, messages, memory: heap };
    } catch (e) {
      this.live = undefined;
      throw e;
    }
  }
}

/** A readable message from whatever a codec threw (Errors, ExitStatus objects, numbers, strings). */
export function codecMessage(e: unknown, messages: readonly string[] = []): string {
  const parts: string[] = [];
  if (e instanceof Error) parts.push(e.message);
  else if (e && typeof e === 'object' && 'status' in e) parts.push(`codec exited with status ${(e as { status: unknown }).status}`);
  else if (e !== undefined) parts.push(String(e));
  parts.push(...messages.filter(Boolean));
  return parts.join('; ') || 'no message';
}

/** The codec's output as bytes we own: copied only when it is a view into the codec's memory. */
export function ownBytes(out: Uint8Array | ArrayBuffer): Uint8Array {
  const view = out instanceof Uint8Array ? out : new Uint8Array(out);
  return view.byteLength === view.buffer.byteLength ? view : view.slice();
}

/**
 * One lazily created instance of an imgpipe-owned module (no imports, memory exported), under the
 * same rules as the codecs above: a call that throws or traps discards the instance, and one whose
 * memory grew past the recycle threshold is dropped after the call.
 */
export class OwnedInstance<E extends { readonly memory: WebAssembly.Memory }> {
  private live?: E;
  private created = 0;

  constructor(private readonly wasm: WasmName, private readonly recycleBytes: () => number = () => RECYCLE_BYTES) {}

  /** Run `fn` on a healthy instance; nothing may await inside, so calls never share the memory. */
  async use<T>(fn: (exports: E) => T): Promise<T> {
    const e = await this.instance();
    try {
      const result = fn(e);
      if (e.memory.buffer.byteLength > this.recycleBytes()) this.drop(e);
      return result;
    } catch (err) {
      this.drop(e);
      throw err;
    }
  }

  /** Diagnostics for warm-instance memory: the live instance's memory and how many were created. */
  stats(): Readonly<{ memoryBytes: number; instancesCreated: number }> {
    return Object.freeze({ memoryBytes: this.live ? this.live.memory.buffer.byteLength : 0, instancesCreated: this.created });
  }

  private drop(e: E): void {
    if (this.live === e) this.live = undefined;
  }

  private async instance(): Promise<E> {
    if (this.live) return this.live;
    const module = await getWasmModule(this.wasm);
    // Another call may have created it while this one awaited the (memoised) module.
    if (!this.live) {
      this.live = new WebAssembly.Instance(module, {}).exports as unknown as E;
      this.created++;
    }
    return this.live;
  }
}
