/**
 * imgpipe on Cloudflare-style Workers (workerd): one fetch handler that serves
 *
 *   GET /<key>?x-oss-process=image/resize,w_300/format,webp   OSS's grammar, source read from ORIGIN
 *   GET /recipe/<key>                                         the upload recipe on ORIGIN/<key>: a JSON
 *                                                             manifest of every variant with its SHA-256
 *   GET /recipe/<key>?variant=<variant key>                   one variant's bytes
 *   POST /recipe/<key>  (body: the image)                      the same, for an uploaded body
 *
 * Configuration comes from bindings: ORIGIN (where sources live, e.g. an OSS bucket's public or
 * CDN endpoint) and optionally ALLOWED_ORIGINS (comma-separated, or '*', for browser CORS).
 * Build with `node examples/worker/build.mjs` (see README.md).
 */
// By package name, as an app would: the bundler's `workerd` condition picks each subpath's workerd entry.
import { runRecipe, isImgpipeError, type Variant } from 'imgpipe';
// HEIC sources (iPhone uploads): the opt-in plug-in; its module is one more `.wasm` import.
import 'imgpipe/heic';
// AVIF sources and `format,avif` outputs: the opt-in AVIF plug-in (two more `.wasm` imports).
import 'imgpipe/avif';
import { createFetchHandler, fetchSource, type FetchHandler } from 'imgpipe/http';

export interface Env {
  readonly ORIGIN: string;
  readonly ALLOWED_ORIGINS?: string;
}

export interface ManifestEntry {
  readonly key: string;
  readonly size: string;
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly sha256: string;
}

// Built once per isolate and reused by every request while the bindings stay the same.
let cached: { readonly origin: string; readonly allowed: string | undefined; readonly handle: FetchHandler } | undefined;

function processHandler(env: Env): FetchHandler {
  if (cached?.origin !== env.ORIGIN || cached.allowed !== env.ALLOWED_ORIGINS) {
    const allowed = env.ALLOWED_ORIGINS === undefined ? undefined
      : env.ALLOWED_ORIGINS === '*' ? '*' : env.ALLOWED_ORIGINS.split(',').map((s) => s.trim());
    cached = {
      origin: env.ORIGIN,
      allowed: env.ALLOWED_ORIGINS,
      handle: createFetchHandler({ source: fetchSource(env.ORIGIN), allowedOrigins: allowed }),
    };
  }
  return cached.handle;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function manifestOf(variants: readonly Variant[]): Promise<ManifestEntry[]> {
  return Promise.all(variants.map(async (v) => ({
    key: v.key, size: v.size, format: v.format, width: v.width, height: v.height, bytes: v.bytes.byteLength, sha256: await sha256(v.bytes),
  })));
}

/** ImgpipeError codes that are the caller's fault answer 4xx, with the code and message as JSON. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = Object.freeze({
  NOT_FOUND: 404, IMAGE_TOO_LARGE: 413, UNSUPPORTED_FORMAT: 415, CORRUPT_IMAGE: 422,
  INVALID_ARGUMENT: 400, MISSING_ARGUMENT: 400, ACCESS_DENIED: 403, ABORTED: 499, STORAGE_ERROR: 502,
});

function errorResponse(e: unknown): Response {
  if (isImgpipeError(e)) {
    return Response.json({ code: e.code, message: e.message }, { status: STATUS_OF_CODE[e.code] ?? 500 });
  }
  return Response.json({ code: 'INTERNAL', message: String((e as Error)?.message ?? e) }, { status: 500 });
}

async function recipe(request: Request, env: Env, key: string): Promise<Response> {
  try {
    const bytes = request.method === 'POST'
      ? new Uint8Array(await request.arrayBuffer())
      : (await fetchSource(env.ORIGIN).get(key, { signal: request.signal })).bytes;
    const result = await runRecipe(bytes, { key, signal: request.signal });
    const wanted = new URL(request.url).searchParams.get('variant');
    if (wanted !== null) {
      const variant = result.variants.find((v) => v.key === wanted);
      if (!variant) return Response.json({ code: 'NOT_FOUND', message: `Expected one of ${result.variants.map((v) => v.key).join(', ')} for variant but received ${JSON.stringify(wanted)}` }, { status: 404 });
      return new Response(variant.bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': variant.contentType } });
    }
    return Response.json({ source: result.source, variants: await manifestOf(result.variants), placeholder: result.placeholder });
  } catch (e) {
    return errorResponse(e);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/recipe/') && (request.method === 'GET' || request.method === 'POST')) {
      return recipe(request, env, decodeURIComponent(url.pathname.slice('/recipe/'.length)));
    }
    return processHandler(env)(request);
  },
};
