/**
 * The per-upload manifest: the metadata record the product writes to a database, stored as
 * `meta/{name}.json` in the target bucket. It is written after every variant, so its presence means
 * the set is complete; an error manifest records a permanent failure so it is never retried.
 */
import { outputKey, type BlindWatermarkRecord, type Placeholder, type RecipeResult, type Variant } from '../../src/index.js';

const MANIFEST_VERSION = 1;

export interface ManifestSource {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly bytes: number;
  readonly format?: string;
  readonly width?: number;
  readonly height?: number;
  readonly orientation?: number;
}

export interface OkManifest {
  readonly version: typeof MANIFEST_VERSION;
  readonly status: 'ok';
  readonly source: ManifestSource;
  readonly variants: readonly { key: string; size: string; format: string; contentType: string; width: number; height: number; bytes: number }[];
  /** ThumbHash (base64) and dominant colour (`#rrggbb`), for a page to paint before a variant loads. */
  readonly placeholder: Placeholder;
  /** What the recipe's blind watermark embedded: the registry that resolves an embedded ID to its text. */
  readonly blindWatermark?: BlindWatermarkRecord;
  readonly processedAt: string;
}

export interface ErrorManifest {
  readonly version: typeof MANIFEST_VERSION;
  readonly status: 'failed';
  readonly source: ManifestSource;
  readonly error: { readonly code: string; readonly message: string };
  readonly processedAt: string;
}

export type Manifest = OkManifest | ErrorManifest;

export function okManifest(bucket: string, etag: string, result: RecipeResult, variants: readonly Variant[], now: Date): OkManifest {
  const s = result.source;
  return {
    version: MANIFEST_VERSION,
    status: 'ok',
    source: { bucket, key: s.key, etag, bytes: s.bytes, format: s.format, width: s.width, height: s.height, orientation: s.orientation },
    variants: variants.map((v) => ({ key: v.key, size: v.size, format: v.format, contentType: v.contentType, width: v.width, height: v.height, bytes: v.bytes.byteLength })),
    placeholder: result.placeholder,
    ...(result.blindWatermark ? { blindWatermark: result.blindWatermark } : {}),
    processedAt: now.toISOString(),
  };
}

export function errorManifest(source: ManifestSource, code: string, message: string, now: Date): ErrorManifest {
  return { version: MANIFEST_VERSION, status: 'failed', source, error: { code, message }, processedAt: now.toISOString() };
}

/**
 * Fill the manifest key template with the core's key-template rules (`{name}`, `{base}`, `{dir}`;
 * see `outputKey`), so output and manifest keys can never be derived two different ways.
 */
export function manifestKey(template: string, sourceKey: string): string {
  return outputKey(template, sourceKey, 'manifest', 'jpeg');
}

export function encodeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(m, null, 2)}\n`);
}
