/**
 * Which recipe made an output. Every variant and manifest carries `x-oss-meta-imgpipe-recipe`: a
 * hash of the validated recipe, beside the source key and ETag. A set is current only when both its
 * source ETag and its recipe hash match, so a recipe change (a new size, AVIF added) makes every
 * existing set stale: the trigger's replay check reprocesses it, and `imgpipe backfill plan` counts it.
 */
import { createHash } from 'node:crypto';
import type { Recipe } from '../../src/index.js';

/**
 * The recipe as canonical JSON: object keys sorted, `undefined` fields dropped (an omitted option and
 * an explicit `undefined` are the same recipe), and bytes (a watermark font or logo) replaced by
 * their SHA-256, so a 10 MB font is hashed, not serialised.
 */
function canonical(value: unknown): unknown {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { $sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

/**
 * 16 hex digits (64 bits) of SHA-256 over the canonical recipe: short enough for a metadata header,
 * and no two recipes a team will ever write collide.
 */
export function recipeHash(recipe: Recipe): string {
  return createHash('sha256').update(JSON.stringify(canonical(recipe))).digest('hex').slice(0, 16);
}
