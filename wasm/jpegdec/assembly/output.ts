// Upsampling and colour conversion, as libjpeg-turbo's jdsample.c and jdcolor.c do them, from the
// decoded component planes to RGBA rows. Planes hold whole blocks; only `dw` x `dh` samples of each
// (libjpeg's downsampled_width/height) are image data, and the fancy (triangle) filters replicate
// the edge sample rather than read the padding, like libjpeg's context rows do.

/** How a component's samples become output pixels (jinit_upsampler's choice). */
export const FULLSIZE: i32 = 0;
export const H2V1_FANCY: i32 = 1;
export const H1V2_FANCY: i32 = 2;
export const H2V2_FANCY: i32 = 3;
/** Box replication by integer factors (h2v1_upsample, h2v2_upsample, int_upsample). */
export const REPLICATE: i32 = 4;

// jdcolor.c's build_ycc_rgb_table with SCALEBITS = 16.
const crR: usize = memory.data(256 * 4, 4);
const cbB: usize = memory.data(256 * 4, 4);
const crG: usize = memory.data(256 * 4, 4);
const cbG: usize = memory.data(256 * 4, 4);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  store<i32>(crR + (<usize>i << 2), (91881 * x + 32768) >> 16);
  store<i32>(cbB + (<usize>i << 2), (116130 * x + 32768) >> 16);
  store<i32>(crG + (<usize>i << 2), -46802 * x);
  store<i32>(cbG + (<usize>i << 2), -22554 * x + 32768);
}

// @ts-ignore: decorator
@inline function clamp(v: i32): u32 {
  return <u32>(v < 0 ? 0 : v > 255 ? 255 : v);
}

/** The samples of component `p` for output row `y`, `width` of them. */
export function upsampleRow(
  plane: usize, stride: i32, dw: i32, dh: i32, m: i32, hexp: i32, vexp: i32, out: usize, y: i32, width: i32,
): usize {
  if (m == FULLSIZE) return plane + <usize>y * <usize>stride;
  if (m == H2V1_FANCY) {
    const inp = plane + <usize>y * <usize>stride;
    let v = <i32>load<u8>(inp);
    store<u8>(out, <u8>v);
    store<u8>(out + 1, <u8>((v * 3 + <i32>load<u8>(inp + 1) + 2) >> 2));
    for (let i = 1; i < dw - 1; i++) {
      v = <i32>load<u8>(inp + <usize>i) * 3;
      store<u8>(out + <usize>(2 * i), <u8>((v + <i32>load<u8>(inp + <usize>(i - 1)) + 1) >> 2));
      store<u8>(out + <usize>(2 * i + 1), <u8>((v + <i32>load<u8>(inp + <usize>(i + 1)) + 2) >> 2));
    }
    const last = dw - 1;
    v = <i32>load<u8>(inp + <usize>last);
    store<u8>(out + <usize>(2 * last), <u8>((v * 3 + <i32>load<u8>(inp + <usize>(last - 1)) + 1) >> 2));
    store<u8>(out + <usize>(2 * last + 1), <u8>v);
    return out;
  }
  if (m == H2V2_FANCY || m == H1V2_FANCY) {
    const r = y >> 1;
    const near = plane + <usize>r * <usize>stride;
    // Even output rows lean on the row above, odd rows on the row below.
    const odd = (y & 1) != 0;
    let fr = odd ? r + 1 : r - 1;
    // Context rows outside the image repeat the edge row (jdmainct.c's top and bottom pointers).
    fr = fr < 0 ? 0 : fr >= dh ? dh - 1 : fr;
    const far = plane + <usize>fr * <usize>stride;
    if (m == H1V2_FANCY) {
      const bias = odd ? 2 : 1;
      for (let i = 0; i < dw; i++) {
        store<u8>(out + <usize>i, <u8>((<i32>load<u8>(near + <usize>i) * 3 + <i32>load<u8>(far + <usize>i) + bias) >> 2));
      }
      return out;
    }
    let thisSum = <i32>load<u8>(near) * 3 + <i32>load<u8>(far);
    let nextSum = <i32>load<u8>(near + 1) * 3 + <i32>load<u8>(far + 1);
    store<u8>(out, <u8>((thisSum * 4 + 8) >> 4));
    store<u8>(out + 1, <u8>((thisSum * 3 + nextSum + 7) >> 4));
    let lastSum = thisSum;
    thisSum = nextSum;
    for (let i = 2; i < dw; i++) {
      nextSum = <i32>load<u8>(near + <usize>i) * 3 + <i32>load<u8>(far + <usize>i);
      store<u8>(out + <usize>(2 * i - 2), <u8>((thisSum * 3 + lastSum + 8) >> 4));
      store<u8>(out + <usize>(2 * i - 1), <u8>((thisSum * 3 + nextSum + 7) >> 4));
      lastSum = thisSum;
      thisSum = nextSum;
    }
    store<u8>(out + <usize>(2 * dw - 2), <u8>((thisSum * 3 + lastSum + 8) >> 4));
    store<u8>(out + <usize>(2 * dw - 1), <u8>((thisSum * 4 + 7) >> 4));
    return out;
  }
  // REPLICATE: the box filter reads whole-block samples, padding included, as libjpeg's does.
  const inp = plane + <usize>(y / vexp) * <usize>stride;
  const h = hexp;
  for (let x = 0; x < width; x++) store<u8>(out + <usize>x, load<u8>(inp + <usize>(x / h)));
  return out;
}

/** One row of YCbCr samples to RGBA (ycc_rgb_convert with the EXT_RGBA layout). */
export function yccRow(y: usize, cb: usize, cr: usize, out: usize, width: i32): void {
  for (let x = 0; x < width; x++) {
    const Y = <i32>load<u8>(y + <usize>x);
    const b = <usize>load<u8>(cb + <usize>x) << 2;
    const r = <usize>load<u8>(cr + <usize>x) << 2;
    const R = clamp(Y + load<i32>(crR + r));
    const G = clamp(Y + ((load<i32>(cbG + b) + load<i32>(crG + r)) >> 16));
    const B = clamp(Y + load<i32>(cbB + b));
    store<u32>(out + (<usize>x << 2), R | (G << 8) | (B << 16) | 0xff000000);
  }
}

/** One row of grey samples to RGBA. */
export function greyRow(y: usize, out: usize, width: i32): void {
  for (let x = 0; x < width; x++) {
    const v = <u32>load<u8>(y + <usize>x);
    store<u32>(out + (<usize>x << 2), v | (v << 8) | (v << 16) | 0xff000000);
  }
}
