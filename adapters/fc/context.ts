/**
 * The parts of the Function Compute 3.0 Node.js `context` the adapters read (spec §7). Everything is
 * optional: the same handler runs under FC, under the local server, and in tests.
 */
export interface FcCredentials {
  readonly accessKeyId?: string;
  readonly accessKeySecret?: string;
  readonly securityToken?: string;
}

export interface FcContext {
  readonly requestId?: string;
  /** STS credentials of the function's role; empty when no role is set. */
  readonly credentials?: FcCredentials;
  /** The region the function runs in, e.g. `cn-shanghai`. */
  readonly region?: string;
  readonly accountId?: string;
  readonly function?: { readonly name?: string; readonly handler?: string; readonly memory?: number; readonly timeout?: number };
  readonly service?: { readonly name?: string; readonly qualifier?: string; readonly versionId?: string };
  readonly retryCount?: number;
}

/** The FC 3.0 event-handler shape: `event` is a Buffer (a Uint8Array) of the trigger's JSON. */
export type FcEventHandler<R = unknown> = (event: Uint8Array | string | object, context: FcContext) => Promise<R>;
