/**
 * THE format registry: one row per format imgpipe knows, holding everything any layer needs about it
 * (the squoosh/jSquash codec-registry shape). Sniffing (magic bytes, never the file name or
 * Content-Type), header reading, decoding, encoding, content types and extensions, the recipe's and
 * `encode`'s list of writable formats, the x-oss-process `format,*` action, `info`'s Format and the
 * README's format table (`npm run docs:compat`) are all read from these rows.
 *
 * Adding a format is one row plus one codec file:
 *   1. Write `src/codecs/<name>.ts` with a header reader `(bytes) => ImageHeader` (sizes from the
 *      header alone, before any pixel is allocated), a decoder and, if writable, an encoder.
 *   2. Add its id to `FormatIds` below (`'write'` when it has an encoder, `'read'` otherwise) and its
 *      row to `BUILTIN` (codecs loaded with `import()`, so a format costs nothing until used).
 *   A plug-in outside the core (an opt-in subpath such as a HEIC decoder) instead augments
 *   `FormatIds` with `declare module` and calls `registerFormat(row)` when it is imported.
 *   `test/core/formats.test.ts` fails when a row lacks a piece another layer needs.
 */
import { ImgpipeError, describeValue } from './errors.js';
import { readAvif, readGif, readHeic, readJpeg, readPng, readWebp, type ImageHeader } from './header.js';
import type { RGBAImage } from './image.js';
import { DEFAULT_FAIL_ON, type FailOn } from './fail-on.js';
import type { JpegShrink } from './codecs/jpeg-frame.js';
import type { WasmName } from './wasm/modules.js';

/**
 * The registered format ids: `'write'` for formats imgpipe can encode, `'read'` for decode-only ones.
 * An interface, so a plug-in can add its id (`declare module 'imgpipe' { interface FormatIds { heic: 'read' } }`).
 */
export interface FormatIds {
  jpeg: 'write';
  png: 'write';
  webp: 'write';
  gif: 'read';
  heic: 'read';
  avif: 'write';
}
export type FormatId = keyof FormatIds & string;
/** Formats imgpipe can write. */
export type OutputFormat = { [K in FormatId]: FormatIds[K] extends 'write' ? K : never }[FormatId];

/** What a decoder is asked for: a DCT-domain reduction it may apply, and whether it may lend its memory. */
export interface DecodeRequest {
  /** The reduction `decode` chose (`chooseShrink`); a decoder that cannot reduce answers `shrink: 1`. */
  readonly shrink: JpegShrink;
  /** The caller copies the pixels at once: they may stay in the decoder's memory until `release()`. */
  readonly lend: boolean;
  /** How much damage to tolerate (see fail-on.ts); decoders with no recoverable damage ignore it. */
  readonly failOn: FailOn;
}

export interface DecodedPixels {
  readonly image: RGBAImage;
  /** The reduction actually applied. */
  readonly shrink: JpegShrink;
  /** Ends a lease on the decoder's memory (`noRelease` when the pixels are the caller's own). */
  readonly release: () => void;
}

/** Bytes (already checked against the limits from `header`) → stored (not yet oriented) RGBA. */
export type FormatDecoder = (bytes: Uint8Array, header: ImageHeader, request: DecodeRequest) => Promise<DecodedPixels>;

/** `encode`'s options after validation and defaults; each encoder reads the ones that apply to it. */
export interface FormatEncodeOptions {
  readonly quality: number;
  readonly progressive: boolean;
  readonly lossless: boolean;
  /** For formats without alpha: the colour transparent areas are flattened onto. */
  readonly background: readonly [number, number, number];
}

export type FormatEncoder = (image: RGBAImage, options: FormatEncodeOptions) => Promise<Uint8Array>;

export interface FormatInfo {
  readonly id: FormatId;
  /** Display name, as in messages ("JPEG"). */
  readonly name: string;
  /** How the name is said in messages: "an AVIF file" ('a' when absent). */
  readonly article?: 'a' | 'an';
  readonly mime: string;
  /** Canonical extension for output keys (`{ext}`), without the dot. */
  readonly extension: string;
  /** Every extension and name users write for it (`outputFormat` accepts these). */
  readonly extensions: readonly string[];
  /** OSS's facts: the name `info` reports and the `format,<name>` values that select this format. */
  readonly oss: { readonly name: string; readonly aliases: readonly string[] };
  /** Magic-byte sniffer. */
  readonly magic: (b: Uint8Array) => boolean;
  /**
   * Reads the header (sizes, orientation, profile) without decoding; throws CORRUPT_IMAGE when
   * malformed, or damaged beyond what `failOn` tolerates.
   */
  readonly readHeader: (b: Uint8Array, failOn: FailOn) => ImageHeader;
  /** Loads the decoder on first use. */
  readonly decode: () => Promise<FormatDecoder>;
  /** Loads the encoder on first use; absent for formats imgpipe cannot write. */
  readonly encode?: () => Promise<FormatEncoder>;
  /** Quality used when the caller gives none (lossy encoders). */
  readonly defaultQuality?: number;
  /**
   * For a format imgpipe cannot write: what an x-oss-process chain writes a source of this format as
   * when no format is asked for (default PNG).
   */
  readonly outputAs?: OutputFormat;
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

/** The release of pixels that were never lent. */
const noRelease = (): void => undefined;
/** A decoder that always makes the whole image, as its own pixels. */
const whole = (decoder: (bytes: Uint8Array, header: ImageHeader) => Promise<RGBAImage>): FormatDecoder =>
  async (bytes, header) => ({ image: await decoder(bytes, header), shrink: 1, release: noRelease });

const BUILTIN: readonly FormatInfo[] = [
  {
    id: 'jpeg', name: 'JPEG', mime: 'image/jpeg', extension: 'jpg', extensions: ['jpg', 'jpeg', 'jpe', 'jfif'],
    oss: { name: 'jpg', aliases: ['jpg', 'jpeg'] },
    magic: (b) => startsWith(b, [0xff, 0xd8, 0xff]),
    readHeader: readJpeg,
    decode: async () => {
      const { decodeJpegScaled } = await import('./codecs/jpeg.js');
      return (bytes, header, { shrink, lend, failOn }) => decodeJpegScaled(bytes, header, shrink, lend, failOn);
    },
    encode: async () => {
      const { encodeJpeg } = await import('./codecs/jpeg-encode.js');
      // JPEG has no alpha: transparent areas are flattened (onto white by default), never left black.
      return (image, o) => encodeJpeg(image, { quality: o.quality, progressive: o.progressive, background: o.background });
    },
    defaultQuality: 85, wasm: ['jpegdec', 'jpegenc'],
  },
  {
    id: 'png', name: 'PNG', mime: 'image/png', extension: 'png', extensions: ['png', 'apng'],
    oss: { name: 'png', aliases: ['png'] },
    magic: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    readHeader: readPng,
    decode: async () => whole((await import('./codecs/png.js')).decodePng),
    encode: async () => {
      const { encodePng } = await import('./codecs/png.js');
      return (image) => encodePng(image);
    },
    wasm: ['png'],
  },
  {
    id: 'webp', name: 'WebP', mime: 'image/webp', extension: 'webp', extensions: ['webp'],
    oss: { name: 'webp', aliases: ['webp'] },
    magic: (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8),
    readHeader: readWebp,
    decode: async () => {
      const { decodeWebpScaled } = await import('./codecs/webp.js');
      return async (bytes, header, { shrink }) => ({ ...(await decodeWebpScaled(bytes, header, shrink)), release: noRelease });
    },
    encode: async () => {
      const { encodeWebp } = await import('./codecs/webp.js');
      return (image, o) => encodeWebp(image, { quality: o.quality, lossless: o.lossless });
    },
    defaultQuality: 80, wasm: ['webp'],
  },
  {
    id: 'gif', name: 'GIF', mime: 'image/gif', extension: 'gif', extensions: ['gif'],
    oss: { name: 'gif', aliases: ['gif'] },
    magic: (b) => startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a')),
    readHeader: readGif,
    decode: async () => whole((await import('./codecs/gif.js')).decodeGif),
    outputAs: 'png',
    wasm: [],
  },
  {
    id: 'heic', name: 'HEIC', mime: 'image/heic', extension: 'heic', extensions: ['heic', 'heif', 'hif'],
    oss: { name: 'heic', aliases: ['heic'] },
    // A HEIF whose brands say AV1 is an AVIF, named as such below.
    magic: (b) => { const list = brands(b); return HEIC_BRANDS.test(list[0] ?? '') && !list.some((x) => AVIF_BRANDS.test(x)); },
    readHeader: readHeic,
    // An opt-in plug-in (imgpipe/heic); refused with how to enable it when none is registered.
    decode: async () => {
      const { requirePlugin } = await import('./plugins.js');
      return whole((bytes, header) => requirePlugin('heic').decode(bytes, header));
    },
    // No HEVC encoder can be shipped: HEIC photos are served as JPEG, as by OSS, imgproxy and sharp-based servers.
    outputAs: 'jpeg',
    wasm: [], plugin: 'imgpipe/heic',
  },
  {
    id: 'avif', name: 'AVIF', article: 'an', mime: 'image/avif', extension: 'avif', extensions: ['avif'],
    oss: { name: 'avif', aliases: ['avif'] },
    // Any HEIF whose brands name AV1 still images (avif) or sequences (avis, whose primary image is read).
    magic: (b) => brands(b).some((x) => AVIF_BRANDS.test(x)),
    readHeader: readAvif,
    // An opt-in plug-in (imgpipe/avif: libavif with libaom, ~4.7 MB of WebAssembly) decodes and writes
    // it; without one, reading and writing are refused with how to enable it.
    decode: async () => {
      const { requirePlugin } = await import('./plugins.js');
      return whole((bytes, header) => requirePlugin('avif').decode(bytes, header));
    },
    encode: async () => {
      const { requirePlugin } = await import('./plugins.js');
      return async (image, o) => requirePlugin('avif', 'encode').encode!(image, { quality: o.quality, lossless: o.lossless });
    },
    // sharp's AVIF default, on sharp's scale (the plug-in maps it, see src/codecs/avif.ts).
    defaultQuality: 50, wasm: [], plugin: 'imgpipe/avif',
  },
];

/** Every registered format by id, in registration order (the built-in ones first). */
export const FORMATS: Readonly<Record<FormatId, FormatInfo>> = {} as Record<FormatId, FormatInfo>;

const REQUIRED_TEXT = ['id', 'name', 'mime', 'extension'] as const;

/**
 * Add a format at run time (a plug-in subpath calls this when imported). The row is checked for
 * every piece the other layers read; an id already registered is refused, so a plug-in cannot
 * silently replace a built-in codec.
 */
export function registerFormat(row: FormatInfo): void {
  const bad = (field: string, expected: string, v: unknown) =>
    new ImgpipeError('INVALID_ARGUMENT', `Expected ${expected} for format row ${describeValue(row?.id)}.${field} but received ${describeValue(v)}`);
  if (typeof row !== 'object' || row === null) throw new ImgpipeError('INVALID_ARGUMENT', `Expected a format row but received ${describeValue(row)}`);
  for (const field of REQUIRED_TEXT) if (typeof row[field] !== 'string' || row[field].length === 0) throw bad(field, 'a non-empty string', row[field]);
  if (!/^[a-z0-9]+$/.test(row.id)) throw bad('id', 'lower-case letters and digits', row.id);
  if (Object.prototype.hasOwnProperty.call(FORMATS, row.id)) throw bad('id', 'an id not yet registered', row.id);
  if (!/^image\/[a-z0-9.+-]+$/.test(row.mime)) throw bad('mime', 'an image/* content type', row.mime);
  if (!Array.isArray(row.extensions) || !row.extensions.includes(row.extension)) throw bad('extensions', `a list including ${row.extension}`, row.extensions);
  if (typeof row.oss !== 'object' || typeof row.oss?.name !== 'string' || !Array.isArray(row.oss.aliases) || !row.oss.aliases.includes(row.oss.name)) {
    throw bad('oss', 'an OSS name and aliases that include it', row.oss);
  }
  for (const fn of ['magic', 'readHeader', 'decode'] as const) if (typeof row[fn] !== 'function') throw bad(fn, 'a function', row[fn]);
  if (row.encode !== undefined && typeof row.encode !== 'function') throw bad('encode', 'a function or undefined', row.encode);
  if (row.defaultQuality !== undefined && !(Number.isInteger(row.defaultQuality) && row.defaultQuality >= 1 && row.defaultQuality <= 100)) {
    throw bad('defaultQuality', 'an integer between 1 and 100', row.defaultQuality);
  }
  if (!Array.isArray(row.wasm)) throw bad('wasm', 'a list of WASM module names', row.wasm);
  if (row.article !== undefined && row.article !== 'a' && row.article !== 'an') throw bad('article', "'a' or 'an'", row.article);
  if (row.outputAs !== undefined && !FORMATS[row.outputAs]?.encode) throw bad('outputAs', 'a format imgpipe can write', row.outputAs);
  (FORMATS as Record<string, FormatInfo>)[row.id] = Object.freeze({ ...row, oss: Object.freeze({ ...row.oss }) });
}

for (const row of BUILTIN) registerFormat(row);

const BUILTIN_IDS: ReadonlySet<string> = new Set(BUILTIN.map((row) => row.id));
/** Whether `id` is one of imgpipe's own rows, there in every thread (a row registered at run time is its thread's alone). */
export const isBuiltinFormat = (id: string): boolean => BUILTIN_IDS.has(id);

/** The registered rows, in order. */
export const formatRows = (): FormatInfo[] => Object.values(FORMATS) as FormatInfo[];
/** The rows imgpipe can write. */
export const writableRows = (): FormatInfo[] => formatRows().filter((f) => f.encode !== undefined);

/**
 * Formats we recognise but cannot read: named in the error so a user learns what they sent
 * instead of "unknown bytes". `article` is how the name is said ("an SVG", spelled out; "a HEIC",
 * said as a word), which no rule on the first letter gets right. A registered row (a plug-in's) is
 * sniffed first.
 */
const KNOWN_UNSUPPORTED: readonly { name: string; article: 'a' | 'an'; magic: (b: Uint8Array) => boolean }[] = [
  { name: 'TIFF', article: 'a', magic: (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { name: 'BMP', article: 'a', magic: (b) => startsWith(b, ascii('BM')) && b.length > 14 },
  { name: 'SVG', article: 'an', magic: (b) => /^\s*(<\?xml|<svg)/i.test(String.fromCharCode(...b.subarray(0, 64))) },
  { name: 'PDF', article: 'a', magic: (b) => startsWith(b, ascii('%PDF')) },
];

/** The format of `bytes` from its magic number, or undefined. */
export function sniffFormat(bytes: Uint8Array): FormatId | undefined {
  for (const f of formatRows()) if (f.magic(bytes)) return f.id;
  return undefined;
}

/** Like sniffFormat, but refuses with a typed error that says what was received. */
function requireFormat(bytes: Uint8Array): FormatId {
  const id = sniffFormat(bytes);
  if (id) return id;
  const readable = formatRows().map((f) => (f.plugin ? `${f.name} (with ${f.plugin})` : f.name)).join(', ');
  if (bytes.length === 0) {
    throw new ImgpipeError('UNSUPPORTED_FORMAT', `Expected an image in one of ${readable} but received 0 bytes`);
  }
  const known = KNOWN_UNSUPPORTED.find((k) => k.magic(bytes));
  const what = known ? `${known.article} ${known.name} file` : `${bytes.length} bytes starting ${hexPrefix(bytes)}`;
  throw new ImgpipeError('UNSUPPORTED_FORMAT', `Expected an image in one of ${readable} but received ${what}`, {
    details: { received: known?.name ?? 'unknown' },
  });
}

function hexPrefix(b: Uint8Array): string {
  return Array.from(b.subarray(0, 8), (v) => v.toString(16).padStart(2, '0')).join(' ');
}

/**
 * What a file declares about itself (see `ImageHeader`), read by its format's row; frozen. `failOn`
 * (default `warning`, see fail-on.ts) decides whether recoverable damage in the header is refused here:
 * extraneous bytes before a JPEG marker, a JPEG with no end-of-image marker.
 */
export function readHeader(bytes: Uint8Array, failOn: FailOn = DEFAULT_FAIL_ON): ImageHeader {
  const format = requireFormat(bytes);
  const h = FORMATS[format].readHeader(bytes, failOn);
  if (!(h.width >= 1 && h.height >= 1)) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a valid ${FORMATS[format].name} header but it declares ${h.width}x${h.height} pixels`);
  }
  return Object.freeze(h);
}

/** Parse an output format name as users write it (`jpg`, `jpeg`, `webp`, `png`). */
export function outputFormat(name: string): OutputFormat {
  const id = formatRows().find((f) => f.id === name || f.extensions.includes(name.toLowerCase()));
  if (id && id.encode) return id.id as OutputFormat;
  const writable = writableRows().map((f) => f.id).join(', ');
  throw new ImgpipeError('UNSUPPORTED_FORMAT', `Expected an output format of ${writable} but received ${JSON.stringify(name)}`);
}

/** What an x-oss-process chain writes a source of `format` as when no format is asked for. */
export function sourceOutputFormat(format: FormatId): OutputFormat {
  const row = FORMATS[format];
  return row.encode ? (format as OutputFormat) : (row.outputAs ?? 'png');
}

/** The writable format an OSS `format,<name>` selects, or undefined when imgpipe cannot write it. */
export function ossOutputFormat(name: string): OutputFormat | undefined {
  return writableRows().find((f) => f.oss.aliases.includes(name))?.id as OutputFormat | undefined;
}
