// Quantisation tables as libjpeg builds them (jcparam.c): the Annex K luminance and chrominance
// tables scaled by jpeg_quality_scaling() and clamped to 1..255 (force_baseline, which libvips and
// so sharp always pass), plus the reciprocals jcdctmgr.c derives from them for the quantiser.
import { allocPermanent } from '../../common/memory';

/** Zigzag position -> natural (row-major) index: libjpeg's jpeg_natural_order. */
export const NATURAL_ORDER: usize = memory.data<u8>([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** ITU-T T.81 Annex K.1, natural order. */
const STD_LUMINANCE: usize = memory.data<u8>([
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]);

/** ITU-T T.81 Annex K.2, natural order. */
const STD_CHROMINANCE: usize = memory.data<u8>([
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
]);

/**
 * Per table (luminance, then chrominance): 64 quantiser values (u8, natural order), then three rows
 * of 64 u32 for the SIMD quantiser (reciprocal, correction, scale). Allocated once per instance and
 * rewritten for each call's quality.
 */
export const TABLE_BYTES: usize = 64 + 3 * 256;
export const QUANT: usize = allocPermanent(2 * TABLE_BYTES);

/** libjpeg's jpeg_quality_scaling(): 1..100 -> percentage scale factor. */
function qualityScaling(quality: i32): i32 {
  return quality < 50 ? 5000 / quality : 200 - quality * 2;
}

/**
 * libjpeg-turbo's compute_reciprocal() for its 16-bit DCTELEM (the SIMD builds sharp ships): the
 * quantiser computes ((|x| + corr) * recip >> 16) * scale >> 16, which equals round(|x| / divisor)
 * with ties up for every |x| < 32768 (checked exhaustively for all 255 baseline quantisers).
 */
function setReciprocal(t: usize, i: usize, divisor: u32): void {
  const b = 31 - clz<u32>(divisor);
  let r = 16 + b;
  let fq = (<u32>1 << r) / divisor;
  const fr = (<u32>1 << r) % divisor;
  let c = divisor >> 1;
  if (fr == 0) {
    // A power of two: the reciprocal would need 17 bits.
    fq >>= 1;
    r--;
  } else if (fr <= divisor >> 1) {
    c++;
  } else {
    fq++;
  }
  store<u32>(t + 64 + (i << 2), fq);
  store<u32>(t + 64 + 256 + (i << 2), c);
  store<u32>(t + 64 + 512 + (i << 2), <u32>1 << (32 - r));
}

function buildTable(t: usize, basic: usize, scale: i32): void {
  for (let i: usize = 0; i < 64; i++) {
    let q = (<i32>load<u8>(basic + i) * scale + 50) / 100;
    if (q < 1) q = 1;
    if (q > 255) q = 255;
    store<u8>(t + i, <u8>q);
    // The forward DCT's output is scaled up by 8, so each quantiser divides by 8 * q.
    setReciprocal(t, i, <u32>q << 3);
  }
}

/** Rewrite both tables for `quality` (1..100). */
export function setQuality(quality: i32): void {
  const scale = qualityScaling(quality);
  buildTable(QUANT, STD_LUMINANCE, scale);
  buildTable(QUANT + TABLE_BYTES, STD_CHROMINANCE, scale);
}
