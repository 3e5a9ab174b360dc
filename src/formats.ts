/**
 * The codec registry: one row per format imgpipe knows. It drives sniffing (magic bytes, never the
 * file name or Content-Type), the content types and extensions of outputs, which formats can be
 * written, and the README's format table.
 */
import { ImgpipeError } from './errors.js';
import type { WasmName } from './wasm.js';

export type FormatId = 'jpeg' | 'png' | 'webp' | 'gif' | 'heic';
/** Formats imgpipe can write. */
export type OutputFormat = 'jpeg' | 'png' | 'webp';

export interface FormatInfo {
  readonly id: FormatId;
  readonly name: string;
  readonly mime: string;
  /** Canonical extension for output keys, without the dot. */
  readonly extension: string;
  readonly extensions: readonly string[];
  readonly magic: (b: Uint8Array) => boolean;
  readonly decode: boolean;
  readonly encode: boolean;
  /** Quality used when the caller gives none. */
  readonly defaultQuality?: number;
  /** The WebAssembly modules its usual decode and encode run on (the recipe compiles them up front). */
  readonly wasm: readonly WasmName[];
  /** Decoded by an opt-in plug-in (src/plugins.ts) rather than the core; names its subpath. */
  readonly plugin?: string;
}

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** An ISOBMFF file's `ftyp` brands (major first), or [] when it has none. */
function brands(b: Uint8Array): string[] {
  if (b.length < 12 || !startsWith(b, ascii('ftyp'), 4)) return [];
  const size = Math.min(b.length, ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0);
  const out = [String.fromCharCode(...b.subarray(8, 12))];
  for (let o = 16; o + 4 <= size; o += 4) out.push(String.fromCharCode(...b.subarray(o, o + 4)));
  return out;
}
const AVIF_BRANDS = /^avi[fs]$/;
/** HEVC brands of HEIF (ISO/IEC 23008-12 Annex B), and its generic image brands. */
const HEIC_BRANDS = /^(heic|heix|heim|heis|hevc|hevx|hevm|hevs|mif1|msf1)$/;

export const FORMATS: Readonly<Record<FormatId, FormatInfo>> = Object.freeze({
  jpeg: {
    id: 'jpeg', name: 'JPEG', mime: 'image/jpeg', extension: 'jpg', extensions: ['jpg', 'jpeg', 'jpe', 'jfif'],
    magic: (b) => startsWith(b, [0xff, 0xd8, 0xff]), decode: true, encode: true, defaultQuality: 85, wasm: ['jpegdec', 'jpegenc'],
  },
  png: {
    id: 'png', name: 'PNG', mime: 'image/png', extension: 'png', extensions: ['png', 'apng'],
    magic: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), decode: true, encode: true, wasm: ['png'],
  },
  webp: {
    id: 'webp', name: 'WebP', mime: 'image/webp', extension: 'webp', extensions: ['webp'],
    magic: (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8), decode: true, encode: true, defaultQuality: 80, wasm: ['webp'],
  },
  gif: {
    id: 'gif', name: 'GIF', mime: 'image/gif', extension: 'gif', extensions: ['gif'],
    magic: (b) => startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a')), decode: true, encode: false, wasm: [],
  },
  heic: {
    id: 'heic', name: 'HEIC', mime: 'image/heic', extension: 'heic', extensions: ['heic', 'heif', 'hif'],
    // A HEIF whose brands say AV1 is an AVIF, named as such below.
    magic: (b) => { const list = brands(b); return HEIC_BRANDS.test(list[0] ?? '') && !list.some((x) => AVIF_BRANDS.test(x)); },
    decode: true, encode: false, wasm: [], plugin: 'imgpipe/heic',
  },
});

/**
 * Formats we recognise but cannot read: named in the error so a user learns what they sent
 * instead of "unknown bytes". `article` is how the name is said ("an SVG", spelled out; "a HEIC",
 * said as a word), which no rule on the first letter gets right.
 */
const KNOWN_UNSUPPORTED: readonly { name: string; article: 'a' | 'an'; magic: (b: Uint8Array) => boolean }[] = [
  { name: 'TIFF', article: 'a', magic: (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { name: 'BMP', article: 'a', magic: (b) => startsWith(b, ascii('BM')) && b.length > 14 },
  { name: 'AVIF', article: 'an', magic: (b) => brands(b).some((x) => AVIF_BRANDS.test(x)) },
  { name: 'SVG', article: 'an', magic: (b) => /^\s*(<\?xml|<svg)/i.test(String.fromCharCode(...b.subarray(0, 64))) },
  { name: 'PDF', article: 'a', magic: (b) => startsWith(b, ascii('%PDF')) },
];

const READABLE = (Object.values(FORMATS) as FormatInfo[]).filter((f) => f.decode).map((f) => (f.plugin ? `${f.name} (with ${f.plugin})` : f.name)).join(', ');

/** The format of `bytes` from its magic number, or undefined. */
export function sniffFormat(bytes: Uint8Array): FormatId | undefined {
  for (const f of Object.values(FORMATS) as FormatInfo[]) if (f.magic(bytes)) return f.id;
  return undefined;
}

/** Like sniffFormat, but refuses with a typed error that says what was received. */
export function requireFormat(bytes: Uint8Array): FormatId {
  const id = sniffFormat(bytes);
  if (id) return id;
  if (bytes.length === 0) {
    throw new ImgpipeError('UNSUPPORTED_FORMAT', `Expected an image in one of ${READABLE} but received 0 bytes`);
  }
  const known = KNOWN_UNSUPPORTED.find((k) => k.magic(bytes));
  const what = known ? `${known.article} ${known.name} file` : `${bytes.length} bytes starting ${hexPrefix(bytes)}`;
  throw new ImgpipeError('UNSUPPORTED_FORMAT', `Expected an image in one of ${READABLE} but received ${what}`, {
    details: { received: known?.name ?? 'unknown' },
  });
}

function hexPrefix(b: Uint8Array): string {
  return Array.from(b.subarray(0, 8), (v) => v.toString(16).padStart(2, '0')).join(' ');
}

/** Parse an output format name as users write it (`jpg`, `jpeg`, `webp`, `png`). */
export function outputFormat(name: string): OutputFormat {
  const id = (Object.values(FORMATS) as FormatInfo[]).find((f) => f.id === name || f.extensions.includes(name.toLowerCase()));
  if (id && id.encode) return id.id as OutputFormat;
  const writable = (Object.values(FORMATS) as FormatInfo[]).filter((f) => f.encode).map((f) => f.id).join(', ');
  throw new ImgpipeError('UNSUPPORTED_FORMAT', `Expected an output format of ${writable} but received ${JSON.stringify(name)}`);
}
