/**
 * Fonts for watermark text: parsing (opentype.js: TrueType, OpenType/CFF and WOFF), a cache of parsed
 * fonts keyed by their bytes, and the embedded default Latin font.
 */
import type { Font } from 'opentype.js/dist/opentype.mjs';
import { ImgpipeError, describeValue } from '../errors.js';
import { NOTO_SANS_LATIN_WOFF_BASE64 } from '../fonts/noto-sans-latin.js';
import { LruCache } from './cache.js';

/** A parsed font plus the small id that glyph caches use in their keys. */
export interface LoadedFont {
  /** Unique per distinct font bytes in this process; part of every glyph cache key. */
  readonly id: number;
  readonly font: Font;
}

export type FontBytes = Uint8Array | ArrayBuffer;

/**
 * Parsed fonts kept by content. A CJK font parses in ~70 ms even lazily, and a warm instance is
 * handed the same font bytes on every request (often as a fresh Uint8Array), so the key is a hash of
 * the bytes, checked against the bytes on a hit. Eight fonts is plenty for one deployment.
 */
const byContent = new LruCache<string, { bytes: Uint8Array; loaded: LoadedFont }>(8);
/** Same bytes object again: skip even the hash. Weak, so it never keeps a caller's buffer alive. */
const byIdentity = new WeakMap<object, LoadedFont>();
let nextId = 1;
let defaultFontCache: Promise<LoadedFont> | undefined;
let opentype: Promise<typeof import('opentype.js/dist/opentype.mjs')> | undefined;

/**
 * opentype.js, imported on first use: only text watermarks need it, and importing it is ~14 ms that
 * every cold start (a Function Compute instance's first upload) would pay otherwise.
 */
function parser(): Promise<typeof import('opentype.js/dist/opentype.mjs')> {
  return (opentype ??= import('opentype.js/dist/opentype.mjs'));
}

function viewOf(bytes: FontBytes): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

/** FNV-1a over all bytes, with the length: a cache key, never a security boundary (hits are compared). */
function hashBytes(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Parse font bytes (TTF, OTF or WOFF; WOFF2 is not supported by the parser), or return the cached
 * parse of identical bytes. Refuses anything else with INVALID_ARGUMENT naming `option`.
 */
export async function loadFont(bytes: FontBytes, option = 'watermark.font'): Promise<LoadedFont> {
  const known = byIdentity.get(bytes);
  if (known) return known;
  const view = viewOf(bytes);
  const key = hashBytes(view);
  const cached = byContent.get(key);
  if (cached && sameBytes(cached.bytes, view)) {
    byIdentity.set(bytes, cached.loaded);
    return cached.loaded;
  }
  const signature = String.fromCharCode(...view.subarray(0, 4));
  if (signature === 'wOF2') {
    throw new ImgpipeError('UNSUPPORTED_FORMAT', `Expected TrueType, OpenType or WOFF font bytes for ${option} but received WOFF2, which is not supported: convert it to WOFF or TTF`);
  }
  const { parse } = await parser();
  let font: Font;
  try {
    // lowMemory parses glyph outlines on first use: a 50,000-glyph CJK font then loads in a tenth of
    // the time and memory, and a watermark only ever needs a few dozen glyphs.
    font = parse(view.slice().buffer, { lowMemory: true });
  } catch (cause) {
    throw new ImgpipeError(
      'INVALID_ARGUMENT',
      `Expected TrueType, OpenType or WOFF font bytes for ${option} but received ${view.length} bytes starting with ${describeValue(signature)}`,
      { cause },
    );
  }
  if (!(font.unitsPerEm > 0) || !(font.numGlyphs > 0)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a font with glyphs for ${option} but received one with ${describeValue(font.numGlyphs)} glyphs and unitsPerEm ${describeValue(font.unitsPerEm)}`);
  }
  const loaded: LoadedFont = Object.freeze({ id: nextId++, font });
  // Keep our own copy for the equality check: the caller may reuse and overwrite its buffer.
  byContent.set(key, { bytes: view.slice(), loaded });
  byIdentity.set(bytes, loaded);
  return loaded;
}

function decodeBase64(text: string): Uint8Array {
  // atob exists in every runtime imgpipe targets (Node >= 16, browsers, Workers); no Buffer needed.
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The embedded Noto Sans Latin subset, parsed once per process. */
export function defaultFont(): Promise<LoadedFont> {
  return (defaultFontCache ??= loadFont(decodeBase64(NOTO_SANS_LATIN_WOFF_BASE64), 'the default font'));
}

/** The embedded default font's bytes (a WOFF), e.g. to hand to another renderer for comparison. */
export function defaultFontBytes(): Uint8Array {
  return decodeBase64(NOTO_SANS_LATIN_WOFF_BASE64);
}
