/**
 * Embedded ICC profiles, read far enough to bring a file's pixels to sRGB, the colour space every
 * variant is served in (as sharp does by default). A photo from a phone or a Mac often carries
 * Display P3 or a "Generic RGB" profile: its values read as sRGB look flat or too dark.
 *
 * Covered here: matrix/TRC RGB profiles (rXYZ/gXYZ/bXYZ with rTRC/gTRC/bTRC), which display, camera
 * and phone profiles are, and grey TRC profiles: a table pass through the kernels module, no extra
 * module. Other RGB profiles (LUT-based, A2B) go to Little CMS (`lcms.ts`, a module loaded only for
 * them), as do CMYK JPEGs' profiles (`jpeg-fallback.ts`). Lab, other colour spaces and malformed
 * profiles leave the pixels as they are, as a browser does with a profile it can't use.
 *
 * The conversion is relative colorimetric, which is all a matrix/TRC profile defines and what
 * libvips/lcms do for such profiles: source values -> linear light (the TRCs) -> PCS XYZ (D50,
 * the profile's matrix) -> linear sRGB (the Bradford-adapted sRGB matrix) -> sRGB values, clipped.
 */
import type { ImageHeader } from '../header.js';
import { convertToSrgb } from '../kernels/srgb.js';
import { applyProfile } from './lcms.js';

/** How to bring a source's 8-bit RGB to sRGB. Plain data, so it can cross to a worker. */
export interface SrgbConversion {
  /** Per channel (R, G, B): each 8-bit source value as linear light, 0..1. */
  readonly linear: readonly [Float32Array, Float32Array, Float32Array];
  /** Linear source RGB to linear sRGB, 3x3 row-major. */
  readonly matrix: Float32Array;
}

/** PCS XYZ (D50) to linear sRGB: the inverse of sRGB's primaries Bradford-adapted to D50. */
const XYZ_D50_TO_SRGB = [
  3.1338561, -1.6168667, -0.4906146,
  -0.9787684, 1.9161415, 0.033454,
  0.0719453, -0.2289914, 1.4052427,
];

/** The profile's bytes joined from the file, inflated for PNG; undefined without a readable one. */
async function embeddedProfile(bytes: Uint8Array, header: ImageHeader): Promise<Uint8Array | undefined> {
  const ranges = header.iccRanges;
  if (!ranges || ranges.length === 0) return undefined;
  if (header.format !== 'png') {
    const out = new Uint8Array(ranges.reduce((n, [, len]) => n + len, 0));
    let at = 0;
    for (const [offset, len] of ranges) {
      out.set(bytes.subarray(offset, offset + len), at);
      at += len;
    }
    return out;
  }
  // iCCP: a 1-79 byte name, a zero byte, compression method 0 (zlib), then the compressed profile.
  const [offset, len] = ranges[0];
  const chunk = bytes.subarray(offset, offset + len);
  const nul = chunk.indexOf(0);
  if (nul < 1 || nul > 79 || chunk[nul + 1] !== 0) return undefined;
  return inflate(chunk.subarray(nul + 2));
}

/**
 * Most bytes an inflated profile may have. The largest real profiles (printer CMYK) are a few MB;
 * a PNG's iCCP is compressed, and a few hundred KB of zeros inflate to hundreds of MB.
 */
export const MAX_INFLATED_PROFILE_BYTES = 16 * 1024 * 1024;

/** zlib data inflated with the runtime's own DecompressionStream (Node 18+, browsers, workerd), up to `max` bytes. */
async function inflate(data: Uint8Array, max = MAX_INFLATED_PROFILE_BYTES): Promise<Uint8Array | undefined> {
  try {
    const reader = new Blob([data.slice()]).stream().pipeThrough(new DecompressionStream('deflate')).getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      total += r.value.byteLength;
      if (total > max) {
        // A decompression bomb: stop reading, ignore the profile.
        await reader.cancel().catch(() => undefined);
        return undefined;
      }
      parts.push(r.value);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * What a file's colour asks for, its embedded profile read (for a PNG, iCCP inflated) once: `srgb`,
 * the matrix/TRC (or nclx) conversion, when the table pass covers it and it moves values (not for
 * sRGB itself); else `lcms`, the profile, when only Little CMS can apply it (an RGB profile that is
 * not matrix/TRC, LUT-based, on an image with colour). Neither without a profile, for one that needs
 * nothing or that can't be used, and for CMYK files, whose profile their decoder applies.
 */
export interface InputProfile {
  readonly srgb?: SrgbConversion;
  readonly lcms?: Uint8Array;
}

/**
 * The file's InputProfile. The decode into a resize asks first (to choose its path) and its JPEG
 * decoder asks again: the answer is kept for the header `inspect` gave for these bytes, so both
 * share one read.
 */
export function inputProfile(bytes: Uint8Array, header: ImageHeader): Promise<InputProfile> {
  const kept = readFor.get(header);
  if (kept?.bytes === bytes) return kept.profile;
  const profile = readInputProfile(bytes, header);
  readFor.set(header, { bytes, profile });
  // A failed read (the kernel module not loadable yet) is not kept: the next call reads again.
  profile.catch(() => readFor.delete(header));
  return profile;
}

const readFor = new WeakMap<ImageHeader, { readonly bytes: Uint8Array; readonly profile: Promise<InputProfile> }>();

async function readInputProfile(bytes: Uint8Array, header: ImageHeader): Promise<InputProfile> {
  if (header.iccBytes === 0) return { srgb: header.heif?.nclx ? await nclxConversion(header.heif.nclx) : undefined };
  const profile = await embeddedProfile(bytes, header);
  if (!profile) return {};
  const srgb = await conversionFor(profile);
  if (srgb) return { srgb };
  const lutRgb = header.components !== 1 && header.components !== 4 && profile.length >= 132 && sig(profile, 36) === 'acsp' && sig(profile, 16) === 'RGB ' && !readProfile(profile);
  return lutRgb ? { lcms: profile } : {};
}

/** A CMYK JPEG's embedded CMYK profile, for Little CMS (`jpeg-fallback.ts`); undefined without one. */
export async function cmykProfile(bytes: Uint8Array, header: ImageHeader): Promise<Uint8Array | undefined> {
  if (header.iccBytes === 0 || header.components !== 4) return undefined;
  const profile = await embeddedProfile(bytes, header);
  return profile && profile.length >= 132 && sig(profile, 36) === 'acsp' && sig(profile, 16) === 'CMYK' ? profile : undefined;
}

/**
 * Bring a decode's RGBA pixels to sRGB in place as the file's profile asks: the matrix/TRC table
 * pass, or Little CMS for a LUT-based profile (left as decoded where that module isn't deployed).
 */
export async function convertDecoded(bytes: Uint8Array, header: ImageHeader, pixels: Uint8Array | Uint8ClampedArray): Promise<void> {
  const { srgb, lcms } = await inputProfile(bytes, header);
  if (srgb) return convertToSrgb(pixels, srgb);
  if (lcms) await applyProfile(pixels, lcms, 'rgba');
}

/**
 * Conversions of the profiles seen last, by their bytes. A phone's or a camera's uploads all carry
 * the same profile, and a decode shared with a worker or falling back to two steps asks twice: the
 * profile is read and probed (a pass through the kernel) once. Large profiles (printer CMYK, which
 * are never applied anyway) are not kept.
 */
const recent = new Map<string, SrgbConversion | undefined>();
const RECENT_PROFILES = 8;
const MAX_KEPT_PROFILE_BYTES = 64 * 1024;

/** The matrix/TRC conversion for a profile (see `inputProfile`). */
export async function conversionFor(profile: Uint8Array): Promise<SrgbConversion | undefined> {
  if (profile.length > MAX_KEPT_PROFILE_BYTES) return readConversion(profile);
  let key = '';
  for (let i = 0; i < profile.length; i += 8192) key += String.fromCharCode(...profile.subarray(i, i + 8192));
  if (recent.has(key)) return recent.get(key);
  const conversion = await readConversion(profile);
  if (recent.size >= RECENT_PROFILES) recent.delete(recent.keys().next().value!);
  recent.set(key, conversion);
  return conversion;
}

async function readConversion(profile: Uint8Array): Promise<SrgbConversion | undefined> {
  const p = readProfile(profile);
  if (!p) return undefined;
  // A grey profile's linear value is the luminance of a neutral: relative colorimetric takes the
  // profile's white to sRGB's, so the neutral stays neutral, the same linear value in all three.
  const matrix = new Float32Array(p.toXyz ? multiply(XYZ_D50_TO_SRGB, p.toXyz) : [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  if (!matrix.every(Number.isFinite)) return undefined;
  const conversion: SrgbConversion = { linear: p.curves, matrix };
  return (await worthApplying(conversion)) ? conversion : undefined;
}

/** 3x3 row-major a x b. */
function multiply(a: readonly number[], b: readonly number[]): number[] {
  return Array.from({ length: 9 }, (_, i) => {
    const r = Math.floor(i / 3), c = i % 3;
    return a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  });
}

interface Profile {
  /** Linear source RGB to PCS XYZ, 3x3 row-major (the columns are the primaries); absent for grey. */
  readonly toXyz?: readonly number[];
  readonly curves: [Float32Array, Float32Array, Float32Array];
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const s15f16 = (b: Uint8Array, o: number) => (u32(b, o) | 0) / 65536;
const sig = (b: Uint8Array, o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);

/** ICC.1 header and tag table; undefined for anything but a well-formed matrix/TRC RGB or grey TRC profile. */
function readProfile(b: Uint8Array): Profile | undefined {
  if (b.length < 132 || sig(b, 36) !== 'acsp' || u32(b, 0) > b.length) return undefined;
  const space = sig(b, 16);
  if (sig(b, 20) !== 'XYZ ' || (space !== 'RGB ' && space !== 'GRAY')) return undefined;
  const count = u32(b, 128);
  if (count > 1000 || 132 + count * 12 > b.length) return undefined;
  const tags = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const e = 132 + i * 12;
    const offset = u32(b, e + 4), size = u32(b, e + 8);
    if (offset + size > b.length || size < 8) return undefined;
    tags.set(sig(b, e), b.subarray(offset, offset + size));
  }
  if (space === 'GRAY') {
    const k = curve(tags.get('kTRC'));
    return k && { curves: [k, k, k] };
  }
  const cols = ['rXYZ', 'gXYZ', 'bXYZ'].map((t) => xyz(tags.get(t)));
  const curves = ['rTRC', 'gTRC', 'bTRC'].map((t) => curve(tags.get(t)));
  if (cols.some((c) => !c) || curves.some((c) => !c)) return undefined;
  const toXyz = [0, 1, 2].flatMap((row) => cols.map((col) => col![row]));
  return { toXyz, curves: curves as [Float32Array, Float32Array, Float32Array] };
}

/** An XYZType tag: three s15Fixed16 numbers after the type signature and 4 reserved bytes. */
function xyz(t: Uint8Array | undefined): number[] | undefined {
  if (!t || t.length < 20 || sig(t, 0) !== 'XYZ ') return undefined;
  return [s15f16(t, 8), s15f16(t, 12), s15f16(t, 16)];
}

/** A curveType or parametricCurveType tag, sampled at the 256 8-bit values. */
function curve(t: Uint8Array | undefined): Float32Array | undefined {
  if (!t || t.length < 12) return undefined;
  const out = new Float32Array(256);
  const type = sig(t, 0);
  if (type === 'curv') {
    const n = u32(t, 8);
    if (t.length < 12 + n * 2) return undefined;
    if (n === 0) return out.map((_, i) => i / 255);
    if (n === 1) {
      const gamma = u16(t, 12) / 256;
      return out.map((_, i) => (i / 255) ** gamma);
    }
    // A table over 0..1: interpolate linearly between its entries.
    for (let i = 0; i < 256; i++) {
      const x = (i / 255) * (n - 1);
      const j = Math.min(n - 2, Math.floor(x));
      const f = x - j;
      out[i] = (u16(t, 12 + j * 2) * (1 - f) + u16(t, 14 + j * 2) * f) / 65535;
    }
    return out;
  }
  if (type === 'para') {
    const fn = u16(t, 8);
    const params = [4, 12, 16, 20, 28][fn];
    if (params === undefined || t.length < 12 + params) return undefined;
    const [g, a = 1, b = 0, c = 0, d = 0, e = 0, f = 0] = Array.from({ length: params / 4 }, (_, k) => s15f16(t, 12 + k * 4));
    // ICC.1:2010 table 68; function types 1 and 2 switch at -b/a, 3 and 4 at d.
    const at = (x: number): number => {
      switch (fn) {
        case 0: return x ** g;
        case 1: return x >= -b / a ? (a * x + b) ** g : 0;
        case 2: return x >= -b / a ? (a * x + b) ** g + c : c;
        case 3: return x >= d ? (a * x + b) ** g : c * x;
        default: return x >= d ? (a * x + b) ** g + e : c * x + f;
      }
    };
    for (let i = 0; i < 256; i++) out[i] = at(i / 255);
    return out.every(Number.isFinite) ? out.map((v) => Math.min(1, Math.max(0, v))) : undefined;
  }
  return undefined;
}

/**
 * Whether the conversion moves any value by more than one level. An sRGB profile (whichever vendor
 * wrote it, tabulated or parametric) moves values by rounding at most, and is then not applied:
 * the pixels stay exactly as decoded, and the image costs no extra pass. Probed on every grey, every
 * level of each primary, and a ramp of mixed colours.
 */
async function worthApplying(c: SrgbConversion): Promise<boolean> {
  const probe = new Uint8Array(256 * 5 * 4);
  for (let v = 0; v < 256; v++) {
    probe.set([v, v, v, 255, v, 0, 0, 255, 0, v, 0, 255, 0, 0, v, 255, v, 255 - v, 128, 255], v * 20);
  }
  const converted = probe.slice();
  await convertToSrgb(converted, c);
  return converted.some((v, i) => Math.abs(v - probe[i]) > 1);
}

/**
 * HEIF/AVIF colour given as code points (ITU-T H.273) in an `nclx` colr box instead of a profile:
 * what Android phones and most AVIF encoders write. BT.709/sRGB primaries need nothing; Display P3
 * (12) and BT.2020 (9) primaries are brought to sRGB like a matrix/TRC profile, through linear light
 * with the transfer function the file names: sRGB's (13) or BT.709's (1, 6, 14, 15, inverted as
 * browsers do). HDR transfers (PQ 16, HLG 18) and other primaries are left as decoded: tone mapping
 * is out of scope.
 */
const NCLX_PRIMARIES: Readonly<Record<number, readonly number[]>> = {
  // CIE xy of red, green, blue; all three use the D65 white, as sRGB does.
  9: [0.708, 0.292, 0.170, 0.797, 0.131, 0.046],
  12: [0.680, 0.320, 0.265, 0.690, 0.150, 0.060],
};
const SRGB_PRIMARIES = [0.64, 0.33, 0.30, 0.60, 0.15, 0.06];
const D65 = [0.3127, 0.3290];

const NCLX_TRANSFER: Readonly<Record<number, (v: number) => number>> = {
  13: (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4),
  ...Object.fromEntries([1, 6, 14, 15].map((t) => [t, (v: number) => (v < 0.081 ? v / 4.5 : ((v + 0.099) / 1.099) ** (1 / 0.45))])),
};

const nclxConversions = new Map<string, Promise<SrgbConversion | undefined>>();

/** The conversion an nclx box asks for (see NCLX_PRIMARIES), or undefined. */
function nclxConversion([primaries, transfer]: readonly number[]): Promise<SrgbConversion | undefined> {
  const xy = NCLX_PRIMARIES[primaries], eotf = NCLX_TRANSFER[transfer];
  if (!xy || !eotf) return Promise.resolve(undefined);
  const key = `${primaries}/${transfer}`;
  let c = nclxConversions.get(key);
  if (!c) {
    const table = Float32Array.from({ length: 256 }, (_, v) => eotf(v / 255));
    const matrix = new Float32Array(multiply(invert(rgbToXyz(SRGB_PRIMARIES)), rgbToXyz(xy)));
    const conversion: SrgbConversion = { linear: [table, table, table], matrix };
    c = worthApplying(conversion).then((worth) => (worth ? conversion : undefined));
    // A failed probe (the kernel module not loadable yet) is not kept: the next image asks again.
    c.catch(() => nclxConversions.delete(key));
    nclxConversions.set(key, c);
  }
  return c;
}

/** Linear RGB to XYZ for primaries `xy` and the D65 white, 3x3 row-major (SMPTE RP 177). */
function rgbToXyz(xy: readonly number[]): number[] {
  const col = (x: number, y: number) => [x / y, 1, (1 - x - y) / y];
  const [r, g, b] = [col(xy[0], xy[1]), col(xy[2], xy[3]), col(xy[4], xy[5])];
  const primaries = [r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2], b[2]];
  const white = col(D65[0], D65[1]);
  const inv = invert(primaries);
  const scale = [0, 1, 2].map((i) => inv[i * 3] * white[0] + inv[i * 3 + 1] * white[1] + inv[i * 3 + 2] * white[2]);
  return primaries.map((v, i) => v * scale[i % 3]);
}

/** 3x3 row-major inverse. */
function invert(m: readonly number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map((v) => v / det);
}
