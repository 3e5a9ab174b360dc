/**
 * Objects a handler has recently seen exist, shared between the handler and the refusal its Node and
 * FC wrappers answer before building a Request (early.ts). While the admission refuses transforms,
 * a transform of an object seen here is answered 503 SlowDown at once; any other goes through the
 * handler, which looks the object up first, so a missing key hears 404 NoSuchKey as OSS answers it
 * whatever the load. A storm of retries for a stored object (the overload case) then costs no
 * lookup, and one for a missing key costs one HEAD per request, as any 404 does.
 *
 * An entry is the bucket (when it comes from the Host) and the URL path as parsed, so the handler and
 * the early refusal name an object alike without decoding its key. A stale entry (an object deleted
 * in the last seconds) only turns that object's 404 into a 503 while the server is overloaded.
 * Runtime-neutral.
 */
import type { Admission } from './admission.js';
import { parseHost } from './host.js';

/** How long an object seen to exist is trusted to still exist, for the refusal only. */
export const KNOWN_TTL_MS = 10_000;
/** Most objects remembered (the oldest is forgotten first). */
export const KNOWN_ENTRIES = 1024;

export interface KnownObjects {
  /** True when the object was seen to exist in the last KNOWN_TTL_MS. */
  has(entry: string): boolean;
  add(entry: string): void;
}

const REGISTRY = new WeakMap<Admission, KnownObjects>();

/** The known objects of the handlers sharing `admission`. */
export function knownObjects(admission: Admission): KnownObjects {
  let known = REGISTRY.get(admission);
  if (!known) {
    const seen = new Map<string, number>();
    known = {
      has(entry) {
        const at = seen.get(entry);
        return at !== undefined && Date.now() - at < KNOWN_TTL_MS;
      },
      add(entry) {
        remember(seen, entry, Date.now());
      },
    };
    REGISTRY.set(admission, known);
  }
  return known;
}

/** `map.set(k, v)` keeping at most KNOWN_ENTRIES, the oldest forgotten first (re-set entries move last: a Map keeps insertion order). */
export function remember<V>(map: Map<string, V>, k: string, v: V): void {
  map.delete(k);
  map.set(k, v);
  if (map.size > KNOWN_ENTRIES) map.delete(map.keys().next().value!);
}

/** True when a handler with these options takes the bucket from the Host's first label (`bucket.example.com`). */
export function bucketFromHost(options: { readonly buckets?: unknown; readonly bucketFrom?: 'host' | 'path' }): boolean {
  return options.buckets !== undefined && options.bucketFrom !== 'path';
}

/**
 * The entry naming an object: `pathname` as a URL parser leaves it, and the bucket's Host label when
 * buckets come from the Host (`bucket.example.com`). Undefined for a malformed Host (the handler's 400).
 */
export function knownEntry(bucketFromHost: boolean, host: string | null | undefined, pathname: string): string | undefined {
  if (!bucketFromHost) return pathname;
  const parsed = parseHost(host);
  return parsed && `${parsed.hostname.split('.')[0]}\n${pathname}`;
}
