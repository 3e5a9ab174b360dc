/**
 * Reads what a file declares about itself (size, frames, orientation, JPEG details) from its header
 * alone, without decoding pixels. This is what lets imgpipe refuse a 4-gigapixel PNG that is 0.5 MB
 * on disk in microseconds: nothing is allocated from the declared size until it has passed the limits.
 */
import { ImgpipeError } from './errors.js';
import type { FormatId } from './formats.js';
import { refuses, type FailOn } from './fail-on.js';
import { readHeifHeader, type HeifHeader } from './codecs/heif-header.js';
import { ihdrProblem } from './codecs/png-chunks.js';

export interface ImageHeader {
  readonly format: FormatId;
  readonly width: number;
  readonly height: number;
  /** Frames in the file (animations); 1 for still images. imgpipe decodes the first frame. */
  readonly frames: number;
  /** EXIF bytes the file declares (JPEG APP1 Exif segments together, PNG eXIf, WebP EXIF); 0 without. */
  readonly exifBytes: number;
  /** ICC profile bytes the file declares (JPEG APP2 ICC_PROFILE chunks together, PNG iCCP, WebP ICCP); 0 without. */
  readonly iccBytes: number;
  /**
   * Where the ICC profile lies in the file, as [offset, length] pairs to join in order: a JPEG's APP2
   * chunks after their 14-byte prefix, by sequence number; the data of a PNG iCCP chunk (name,
   * compression method, compressed profile) or of a WebP ICCP chunk. Absent without a profile.
   */
  readonly iccRanges?: readonly (readonly [number, number])[];
  /** EXIF orientation 1..8 (1 when absent or invalid). */
  readonly orientation: number;
  /** Whether the format declares an alpha channel (PNG colour type, WebP flag, GIF transparency aside). */
  readonly alpha: boolean;
  /** WebP only: the still image's bitstream is lossless (VP8L), read from its first VP8 or VP8L chunk. */
  readonly lossless?: boolean;
  /** JPEG only: number of colour components (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK). */
  readonly components?: number;
  /** JPEG only: estimated libjpeg quality of the luminance table (for `quality,q_` relative quality). */
  readonly jpegQuality?: number;
  /** JPEG only: a progressive frame (SOF2/6/10/14): every scan is read before any row comes out. */
  readonly progressive?: boolean;
  /** JPEG only: the Adobe APP14 transform flag (0 = none, 1 = YCbCr, 2 = YCCK). */
  readonly adobeTransform?: number;
  /** JPEG only: the frame's start-of-frame marker (0xC0 baseline ... 0xCF), which names its coding process. */
  readonly sof?: number;
  /** JPEG only: the sample precision in bits (8; 12 or 16 in extended and lossless files). */
  readonly precision?: number;
  /** JPEG only: the file ends without an end-of-image marker (decoded only with `failOn: 'none'`). */
  readonly truncated?: boolean;
  /** PNG and HEIC: bits per channel. */
  readonly bitDepth?: number;
  /**
   * HEIC only: what the `meta` box says (primary item, coded size, transforms, grid, colour). Its
   * coded size is what the decoder allocates before cropping, so the limits check it too.
   */
  readonly heif?: HeifHeader;
}

/** The size a viewer shows: EXIF orientations 5-8 turn the stored image a quarter, swapping its sides. */
export function uprightSize(header: Pick<ImageHeader, 'width' | 'height' | 'orientation'>): { width: number; height: number } {
  return header.orientation >= 5 ? { width: header.height, height: header.width } : { width: header.width, height: header.height };
}

/** A header that is not what its format requires; `name` is the format's display name (`FormatInfo.name`). */
export const corruptHeader = (name: string, what: string) =>
  new ImgpipeError('CORRUPT_IMAGE', `Expected a valid ${name} header but ${what}`);

const u16be = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32be = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const u16le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u24le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
const u32le = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const tag = (b: Uint8Array, o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);


/**
 * A HEIC declares its displayed size after `clap`/`irot`, which its decoder applies itself: so its
 * orientation is always 1 here. Its EXIF orientation (iPhones write one) describes the same turn and
 * must not be applied a second time; libheif and sharp/libvips ignore it too.
 */
export function readHeic(b: Uint8Array): ImageHeader {
  const heif = readHeifHeader(b);
  return {
    format: 'heic', width: heif.width, height: heif.height, frames: 1, exifBytes: heif.exifBytes,
    iccBytes: heif.icc?.[1] ?? 0, iccRanges: heif.icc ? [heif.icc] : undefined, orientation: 1, alpha: heif.alpha,
    bitDepth: heif.bitDepth, heif,
  };
}

/**
 * An AVIF's header: the same HEIF boxes as a HEIC's, with AV1 (`av01`) items. Its displayed size is
 * after `clap`/`irot`, which the AVIF plug-in applies (libavif leaves them to its caller), so its
 * orientation is 1 like a HEIC's.
 */
export function readAvif(b: Uint8Array): ImageHeader {
  return { ...readHeic(b), format: 'avif' };
}

// Sum of the standard (Annex K) luminance quantisation table: the reference for quality estimation.
const STD_LUMA_SUM = 3688;

export function readJpeg(b: Uint8Array, failOn: FailOn): ImageHeader {
  let o = 2;
  let width = 0, height = 0, components = 0, orientation = 1, progressive = false, sof = 0, precision = 8;
  let jpegQuality: number | undefined, adobeTransform: number | undefined;
  let exifBytes = 0, iccBytes = 0;
  const icc: [number, number, number][] = [];
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff || b[o + 1] === 0x00) {
      // libjpeg skips to the next marker with a warning (and so decodes the file unless failOn is
      // 'warning'). FF 00 is no marker (it stands for a data byte FF): skipped as data, as libjpeg does.
      let next = o;
      for (;;) {
        while (next < b.length && b[next] !== 0xff) next++;
        let m = next;
        while (m < b.length && b[m] === 0xff) m++;
        if (m < b.length && b[m] === 0x00) { next = m + 1; continue; }
        next = Math.max(o, m - 1);
        break;
      }
      if (refuses(failOn, 'warning') || next + 4 > b.length) {
        const marker = next + 1 < b.length ? ` 0xFF${b[next + 1].toString(16).toUpperCase()}` : '';
        throw corruptHeader('JPEG', `found ${next - o} extraneous bytes before marker${marker} at offset ${o} (decoded with failOn 'error' or lower)`);
      }
      o = next;
      continue;
    }
    const marker = b[o + 1];
    if (marker === 0xff) { o++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { o += 2; continue; }
    const len = u16be(b, o + 2);
    if (len < 2 || o + 2 + len > b.length) throw corruptHeader('JPEG', `segment 0xFF${marker.toString(16).toUpperCase()} at offset ${o} runs past the end of the file`);
    const seg = b.subarray(o + 4, o + 2 + len);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (seg.length < 6) throw corruptHeader('JPEG', 'its frame header is too short');
      height = u16be(seg, 1);
      width = u16be(seg, 3);
      components = seg[5];
      progressive = (marker & 3) === 2;
      sof = marker;
      precision = seg[0];
    } else if (marker === 0xe1 && seg.length > 14 && tag(seg, 0) === 'Exif' && seg[4] === 0 && seg[5] === 0) {
      orientation = exifOrientation(seg.subarray(6));
      exifBytes += seg.length - 6;
    } else if (marker === 0xe2 && seg.length > 14 && isIccChunk(seg)) {
      // A profile too large for one segment is split over several, each "ICC_PROFILE\0" + index + count.
      iccBytes += seg.length - 14;
      icc.push([seg[12], o + 4 + 14, seg.length - 14]);
    } else if (marker === 0xee && seg.length >= 12 && tag(seg, 0) === 'Adob' && seg[4] === 0x65) {
      adobeTransform = seg[11];
    } else if (marker === 0xdb && jpegQuality === undefined) {
      jpegQuality = estimateQuality(seg);
    } else if (marker === 0xda) {
      // Start of scan: the header is over. A complete file has an EOI marker after the first scan
      // (entropy-coded data can never contain 0xFFD9), so its absence means the file was cut off.
      const truncated = !hasEoi(b, o + 2 + len);
      if (truncated && refuses(failOn, 'truncated')) {
        throw new ImgpipeError('CORRUPT_IMAGE', `Expected a complete JPEG but the file is truncated: no end-of-image marker after the image data (${b.length} bytes received)`);
      }
      if (!width) throw corruptHeader('JPEG', 'image data starts before any frame header');
      return {
        format: 'jpeg', width, height, frames: 1, exifBytes, iccBytes, ...iccRanges(icc), orientation, alpha: false,
        components, jpegQuality, progressive, adobeTransform, sof, precision, ...(truncated ? { truncated } : {}),
      };
    } else if (marker === 0xd9) {
      break;
    }
    o += 2 + len;
  }
  throw new ImgpipeError('CORRUPT_IMAGE', `Expected a complete JPEG but the file ends (${b.length} bytes) before its image data`);
}

const ICC_TAG = 'ICC_PROFILE\0';

/** The header's `iccRanges` from [sequence number, offset, length] triples (a stable sort keeps file order on ties). */
function iccRanges(chunks: [number, number, number][]): Pick<ImageHeader, 'iccRanges'> {
  if (chunks.length === 0) return {};
  return { iccRanges: chunks.sort((a, b) => a[0] - b[0]).map(([, offset, length]) => [offset, length] as const) };
}

function isIccChunk(seg: Uint8Array): boolean {
  for (let i = 0; i < ICC_TAG.length; i++) if (seg[i] !== ICC_TAG.charCodeAt(i)) return false;
  return true;
}

function hasEoi(b: Uint8Array, from: number): boolean {
  for (let i = b.length - 2; i >= from; i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
  return false;
}

/** libjpeg's quality scaling inverted, on the sum of the first (luminance) table. */
function estimateQuality(seg: Uint8Array): number | undefined {
  const precision = seg[0] >> 4;
  const n = precision ? 128 : 64;
  if (seg.length < 1 + n) return undefined;
  let sum = 0;
  for (let i = 0; i < 64; i++) sum += precision ? u16be(seg, 1 + i * 2) : seg[1 + i];
  const scale = (sum * 100) / STD_LUMA_SUM;
  const q = scale <= 100 ? (200 - scale) / 2 : 5000 / scale;
  return Math.max(1, Math.min(100, Math.round(q)));
}

/** Orientation tag (0x0112) from a TIFF-structured EXIF block; 1 when absent or malformed. */
function exifOrientation(t: Uint8Array): number {
  if (t.length < 8) return 1;
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return 1;
  const r16 = le ? u16le : u16be;
  const r32 = le ? u32le : u32be;
  const ifd = r32(t, 4);
  if (ifd + 2 > t.length) return 1;
  const count = r16(t, ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) return 1;
    if (r16(t, e) === 0x0112) {
      const v = r16(t, e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

export function readPng(b: Uint8Array): ImageHeader {
  if (b.length < 33 || tag(b, 12) !== 'IHDR') throw corruptHeader('PNG', 'its first chunk is not IHDR');
  // IHDR in full, as libspng checks it: a service gating uploads on inspect() must not let an
  // impossible header through (colour type 1, bit depth 99, a damaged IHDR).
  const problem = ihdrProblem(b.subarray(16, 16 + Math.min(u32be(b, 8), b.length - 16)));
  // Its CRC is checked with the other critical chunks' before decoding (png-chunks.ts): a header whose
  // declared size is over a limit is refused as such first, whatever its CRC.
  if (problem) throw corruptHeader('PNG', problem);
  const width = u32be(b, 16), height = u32be(b, 20), bitDepth = b[24], colourType = b[25];
  let orientation = 1, alpha = colourType === 4 || colourType === 6;
  let frames = 1, exifBytes = 0, iccBytes = 0;
  const icc: [number, number, number][] = [];
  // Walk the chunks before the image data: tRNS adds alpha, eXIf carries orientation. acTL (APNG)
  // declares the frame count; only the default image is decoded, so frames don't multiply memory.
  // Sizes are taken as declared, before the bounds check: a decoder may allocate a chunk's length first.
  let o = 8, imageData = false, palette = false;
  while (o + 8 <= b.length) {
    const len = u32be(b, o), type = tag(b, o + 4);
    if (type === 'IEND') break;
    if (type === 'IDAT') { imageData = true; break; }
    if (type === 'PLTE') palette = true;
    if (type === 'eXIf') exifBytes += len;
    if (type === 'iCCP') iccBytes += len;
    if (type === 'acTL' && o + 12 <= b.length) frames = Math.max(1, u32be(b, o + 8));
    if (o + 12 + len > b.length) break;
    if (type === 'tRNS') alpha = true;
    if (type === 'iCCP' && icc.length === 0) icc.push([0, o + 8, len]);
    if (type === 'eXIf') orientation = exifOrientation(b.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  // A file that ends (or whose chunk runs past its end) before the image data is left to the limits
  // and then the decoder, which refuse it: a declared size over a limit is the more useful answer.
  if (!imageData && o + 8 <= b.length && tag(b, o + 4) === 'IEND') throw corruptHeader('PNG', 'it has no image data: no IDAT chunk before IEND');
  if (imageData && colourType === 3 && !palette) throw corruptHeader('PNG', 'it declares a palette image (colour type 3) but has no PLTE chunk before its image data');
  return { format: 'png', width, height, frames, exifBytes, iccBytes, ...iccRanges(icc), orientation, alpha, bitDepth };
}

export function readWebp(b: Uint8Array): ImageHeader {
  // The smallest header is VP8L's (25 bytes: a one-colour 100x100 lossless file is 28 in all).
  if (b.length < 25) throw corruptHeader('WebP', `it is only ${b.length} bytes long (a WebP header takes at least 25)`);
  const first = tag(b, 12);
  if (first !== 'VP8L' && b.length < 30) throw corruptHeader('WebP', `it is only ${b.length} bytes long (a ${JSON.stringify(first)} header takes 30)`);
  if (first === 'VP8 ') {
    if (!(b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a)) throw corruptHeader('WebP', 'its VP8 frame has no start code');
    return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff, frames: 1, exifBytes: 0, iccBytes: 0, orientation: 1, alpha: false, lossless: false };
  }
  if (first === 'VP8L') {
    if (b[20] !== 0x2f) throw corruptHeader('WebP', 'its VP8L signature is missing');
    const bits = u32le(b, 21);
    // Bit 28 is the encoder's alpha_is_used hint: libvips (and so sharp) decodes without alpha when it is clear.
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, frames: 1, exifBytes: 0, iccBytes: 0, orientation: 1, alpha: ((bits >>> 28) & 1) === 1, lossless: true };
  }
  if (first === 'VP8X') {
    const flags = b[20];
    const width = u24le(b, 24) + 1, height = u24le(b, 27) + 1;
    let frames = 0, orientation = 1, exifBytes = 0, iccBytes = 0;
    let lossless: boolean | undefined;
    const icc: [number, number, number][] = [];
    let o = 12;
    while (o + 8 <= b.length) {
      const type = tag(b, o), len = u32le(b, o + 4);
      if (type === 'ANMF') frames++;
      if (lossless === undefined && (type === 'VP8L' || type === 'VP8 ')) lossless = type === 'VP8L';
      if (type === 'ICCP') iccBytes += len;
      if (type === 'ICCP' && icc.length === 0 && o + 8 + len <= b.length) icc.push([0, o + 8, len]);
      if (type === 'EXIF') exifBytes += len;
      if (type === 'EXIF') orientation = exifOrientation(stripExifPrefix(b.subarray(o + 8, Math.min(b.length, o + 8 + len))));
      o += 8 + len + (len & 1);
    }
    return { format: 'webp', width, height, frames: Math.max(1, frames), exifBytes, iccBytes, ...iccRanges(icc), orientation, alpha: (flags & 0x10) !== 0, lossless: lossless ?? false };
  }
  throw corruptHeader('WebP', `its first chunk is ${JSON.stringify(first)}`);
}

/** Some writers keep the JPEG-style "Exif\0\0" prefix inside WebP's EXIF chunk. */
function stripExifPrefix(b: Uint8Array): Uint8Array {
  return b.length > 6 && tag(b, 0) === 'Exif' ? b.subarray(6) : b;
}

export function readGif(b: Uint8Array): ImageHeader {
  if (b.length < 13) throw corruptHeader('GIF', `it is only ${b.length} bytes long`);
  return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8), frames: countGifFrames(b), exifBytes: 0, iccBytes: 0, orientation: 1, alpha: true };
}

/**
 * Count image descriptors by walking the block structure (extensions and image data are chains of
 * length-prefixed sub-blocks), without touching pixel data. A damaged structure ends the count: the
 * decoder reports the damage itself.
 */
function countGifFrames(b: Uint8Array): number {
  const colourTable = (packed: number) => (packed & 0x80 ? 3 * (2 << (packed & 7)) : 0);
  const skipSubBlocks = (p: number): number => {
    while (p < b.length) {
      const n = b[p];
      p += 1 + n;
      if (n === 0) break;
    }
    return p;
  };
  let frames = 0;
  let o = 13 + colourTable(b[10]);
  while (o < b.length) {
    const block = b[o];
    if (block === 0x21) {
      o = skipSubBlocks(o + 2);
    } else if (block === 0x2c && o + 10 <= b.length) {
      frames++;
      // Descriptor (10 bytes), local colour table, LZW minimum code size, then the data sub-blocks.
      o = skipSubBlocks(o + 10 + colourTable(b[o + 9]) + 1);
    } else {
      break;
    }
  }
  return Math.max(1, frames);
}
