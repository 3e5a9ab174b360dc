/*
 * The lossy WebP encoder's inner loops on WebAssembly SIMD, put into libwebp's encoder function
 * tables after libwebp has filled them with its SSE2 versions (imgpipe_webp_encoder_simd_init, called
 * by imgpipe_webp_encode in webp.c). Each computes exactly what the SSE2 version it replaces computes,
 * so encoded files are byte for byte the same. Only loops measured faster than libwebp's SSE2 code
 * through Emscripten's emulation are here (per call, in one process: quantizer 0.91x, 16x16 SSE
 * 0.92x, 4x4 texture distortion 0.90x); WASM versions of the forward and inverse transforms, the
 * residual cost and the 16x16 distortion measured 1.02-1.09x and were left out. V8 compiles
 * interleaves, 64-bit half moves and pshufd-style shuffles to one x64 instruction each but an
 * arbitrary two-vector shuffle to a dozen, which is what the SSE2 code's emulation mostly pays for.
 * The decoder's loops are in webp.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <wasm_simd128.h>
#include "src/dsp/dsp.h"
#include "src/enc/vp8i_enc.h"

/* The four 32-bit lanes added up. */
static WEBP_INLINE int SumLanes(v128_t v) {
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_i32x4_extract_lane(v, 0);
}

/*
 * Quantizer: one 4x4 block of DCT coefficients to levels, in zigzag order, and the coefficients
 * dequantized back, bit for bit as libwebp's SSE2 version: levels ((|in| + sharpen) * iq + bias) >> 17
 * taken as signed 32-bit values, packed to 16 bits with saturation and capped at 2047. The 32-bit
 * products are one extending multiply per half where Emscripten's SSE2 needs a multiply-high (two
 * multiplies and a shuffle), a multiply-low and two interleaves; the zigzag order is one shuffle per
 * half where the SSE2 version takes six and a swap.
 */
static WEBP_INLINE v128_t QuantizeHalf(v128_t coeff, const VP8Matrix* WEBP_RESTRICT const mtx, int j) {
  const v128_t iq = wasm_v128_load(&mtx->iq_[j]);
  const v128_t lo = wasm_i32x4_shr(wasm_i32x4_add(wasm_u32x4_extmul_low_u16x8(coeff, iq), wasm_v128_load(&mtx->bias_[j])), QFIX);
  const v128_t hi = wasm_i32x4_shr(wasm_i32x4_add(wasm_u32x4_extmul_high_u16x8(coeff, iq), wasm_v128_load(&mtx->bias_[j + 4])), QFIX);
  return wasm_i16x8_min(wasm_i16x8_narrow_i32x4(lo, hi), wasm_i16x8_splat(MAX_LEVEL));
}

static WEBP_INLINE int QuantizeBlock_Wasm(int16_t in[16], int16_t out[16], const uint16_t* WEBP_RESTRICT const sharpen,
                                          const VP8Matrix* WEBP_RESTRICT const mtx) {
  const v128_t in0 = wasm_v128_load(&in[0]);
  const v128_t in8 = wasm_v128_load(&in[8]);
  const v128_t sign0 = wasm_i16x8_shr(in0, 15);
  const v128_t sign8 = wasm_i16x8_shr(in8, 15);
  v128_t coeff0 = wasm_i16x8_abs(in0);
  v128_t coeff8 = wasm_i16x8_abs(in8);
  if (sharpen != NULL) {
    coeff0 = wasm_i16x8_add(coeff0, wasm_v128_load(&sharpen[0]));
    coeff8 = wasm_i16x8_add(coeff8, wasm_v128_load(&sharpen[8]));
  }
  const v128_t out0 = wasm_i16x8_sub(wasm_v128_xor(QuantizeHalf(coeff0, mtx, 0), sign0), sign0);
  const v128_t out8 = wasm_i16x8_sub(wasm_v128_xor(QuantizeHalf(coeff8, mtx, 8), sign8), sign8);
  wasm_v128_store(&in[0], wasm_i16x8_mul(out0, wasm_v128_load(&mtx->q_[0])));
  wasm_v128_store(&in[8], wasm_i16x8_mul(out8, wasm_v128_load(&mtx->q_[8])));
  /* libwebp's kZigzag, indices into out0 (0-7) then out8 (8-15). */
  wasm_v128_store(&out[0], wasm_i16x8_shuffle(out0, out8, 0, 1, 4, 8, 5, 2, 3, 6));
  wasm_v128_store(&out[8], wasm_i16x8_shuffle(out0, out8, 9, 12, 13, 10, 7, 11, 14, 15));
  return wasm_v128_any_true(wasm_v128_or(out0, out8));
}

static int QuantizeBlockSharpen_Wasm(int16_t in[16], int16_t out[16], const VP8Matrix* WEBP_RESTRICT const mtx) {
  return QuantizeBlock_Wasm(in, out, &mtx->sharpen_[0], mtx);
}

static int QuantizeBlockWHT_Wasm(int16_t in[16], int16_t out[16], const VP8Matrix* WEBP_RESTRICT const mtx) {
  return QuantizeBlock_Wasm(in, out, NULL, mtx);
}

static int Quantize2Blocks_Wasm(int16_t in[32], int16_t out[32], const VP8Matrix* WEBP_RESTRICT const mtx) {
  const int nz = QuantizeBlock_Wasm(in, out, &mtx->sharpen_[0], mtx);
  return nz | QuantizeBlock_Wasm(in + 16, out + 16, &mtx->sharpen_[0], mtx) << 1;
}

/* Transposes the 4x4 block in each half of the four rows (16-bit lanes). */
static WEBP_INLINE void Transpose2x4x4(v128_t r[4]) {
  const v128_t t0 = wasm_i16x8_shuffle(r[0], r[1], 0, 8, 1, 9, 2, 10, 3, 11);
  const v128_t t1 = wasm_i16x8_shuffle(r[2], r[3], 0, 8, 1, 9, 2, 10, 3, 11);
  const v128_t t2 = wasm_i16x8_shuffle(r[0], r[1], 4, 12, 5, 13, 6, 14, 7, 15);
  const v128_t t3 = wasm_i16x8_shuffle(r[2], r[3], 4, 12, 5, 13, 6, 14, 7, 15);
  const v128_t u0 = wasm_i32x4_shuffle(t0, t1, 0, 4, 1, 5);
  const v128_t u1 = wasm_i32x4_shuffle(t2, t3, 0, 4, 1, 5);
  const v128_t u2 = wasm_i32x4_shuffle(t0, t1, 2, 6, 3, 7);
  const v128_t u3 = wasm_i32x4_shuffle(t2, t3, 2, 6, 3, 7);
  r[0] = wasm_i64x2_shuffle(u0, u1, 0, 2);
  r[1] = wasm_i64x2_shuffle(u0, u1, 1, 3);
  r[2] = wasm_i64x2_shuffle(u2, u3, 0, 2);
  r[3] = wasm_i64x2_shuffle(u2, u3, 1, 3);
}

/*
 * Sums of squared differences between a source and a reconstructed block (rows BPS bytes apart).
 * Squares are 16-bit products added in pairs to 32 bits, as the SSE2 versions' _mm_madd_epi16, and
 * the lanes are added in registers where the SSE2 versions store them to the stack.
 */
static WEBP_INLINE v128_t SquaredDiff16(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b) {
  const v128_t va = wasm_v128_load(a);
  const v128_t vb = wasm_v128_load(b);
  const v128_t d = wasm_v128_or(wasm_u8x16_sub_sat(va, vb), wasm_u8x16_sub_sat(vb, va));
  const v128_t lo = wasm_u16x8_extend_low_u8x16(d);
  const v128_t hi = wasm_u16x8_extend_high_u8x16(d);
  return wasm_i32x4_add(wasm_i32x4_dot_i16x8(lo, lo), wasm_i32x4_dot_i16x8(hi, hi));
}

static WEBP_INLINE int SSE16xN_Wasm(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b, int rows) {
  v128_t sum0 = wasm_i32x4_splat(0);
  v128_t sum1 = wasm_i32x4_splat(0);
  for (int y = 0; y < rows; y += 2, a += 2 * BPS, b += 2 * BPS) {
    sum0 = wasm_i32x4_add(sum0, SquaredDiff16(a, b));
    sum1 = wasm_i32x4_add(sum1, SquaredDiff16(a + BPS, b + BPS));
  }
  return SumLanes(wasm_i32x4_add(sum0, sum1));
}

static int SSE16x16_Wasm(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b) { return SSE16xN_Wasm(a, b, 16); }
static int SSE16x8_Wasm(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b) { return SSE16xN_Wasm(a, b, 8); }

static int SSE8x8_Wasm(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b) {
  v128_t sum = wasm_i32x4_splat(0);
  for (int y = 0; y < 8; y++, a += BPS, b += BPS) {
    const v128_t d = wasm_i16x8_sub(wasm_u16x8_load8x8(a), wasm_u16x8_load8x8(b));
    sum = wasm_i32x4_add(sum, wasm_i32x4_dot_i16x8(d, d));
  }
  return SumLanes(sum);
}

/* Reads 8 bytes of each row where 4 are used, as the SSE2 version (the work buffers have room). */
static int SSE4x4_Wasm(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b) {
  const v128_t d0 = wasm_i16x8_sub(wasm_u16x8_load8x8(a + 0 * BPS), wasm_u16x8_load8x8(b + 0 * BPS));
  const v128_t d1 = wasm_i16x8_sub(wasm_u16x8_load8x8(a + 1 * BPS), wasm_u16x8_load8x8(b + 1 * BPS));
  const v128_t d2 = wasm_i16x8_sub(wasm_u16x8_load8x8(a + 2 * BPS), wasm_u16x8_load8x8(b + 2 * BPS));
  const v128_t d3 = wasm_i16x8_sub(wasm_u16x8_load8x8(a + 3 * BPS), wasm_u16x8_load8x8(b + 3 * BPS));
  const v128_t d01 = wasm_i64x2_shuffle(d0, d1, 0, 2);
  const v128_t d23 = wasm_i64x2_shuffle(d2, d3, 0, 2);
  return SumLanes(wasm_i32x4_add(wasm_i32x4_dot_i16x8(d01, d01), wasm_i32x4_dot_i16x8(d23, d23)));
}

/*
 * Texture distortion: the weighted sums of the absolute Hadamard coefficients of two blocks, their
 * difference's absolute value >> 5 per 4x4 block. Two 4x4 blocks side by side in each vector; the
 * vertical pass comes first and the weights are applied to the transposed coefficients, as in the
 * SSE2 version (libwebp's weight matrices are symmetric). All values fit 16 bits (at most 16 * 255).
 */
static WEBP_INLINE void Hadamard4(v128_t r[4]) {
  const v128_t a0 = wasm_i16x8_add(r[0], r[2]);
  const v128_t a1 = wasm_i16x8_add(r[1], r[3]);
  const v128_t a2 = wasm_i16x8_sub(r[1], r[3]);
  const v128_t a3 = wasm_i16x8_sub(r[0], r[2]);
  r[0] = wasm_i16x8_add(a0, a1);
  r[1] = wasm_i16x8_add(a3, a2);
  r[2] = wasm_i16x8_sub(a3, a2);
  r[3] = wasm_i16x8_sub(a0, a1);
}

/* Weighted sums of two side-by-side blocks' rows r: lanes 0-1 add up to the left block's, 2-3 the right's. */
static WEBP_INLINE v128_t WeightedSums(v128_t r[4], const v128_t w[4]) {
  Hadamard4(r);
  Transpose2x4x4(r);
  Hadamard4(r);
  v128_t s = wasm_i32x4_dot_i16x8(wasm_i16x8_abs(r[0]), w[0]);
  s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_i16x8_abs(r[1]), w[1]));
  s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_i16x8_abs(r[2]), w[2]));
  return wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(wasm_i16x8_abs(r[3]), w[3]));
}

/* Row j of the weights for both halves of a vector. */
static WEBP_INLINE void LoadWeights(const uint16_t* WEBP_RESTRICT const w, v128_t out[4]) {
  const v128_t w0 = wasm_v128_load(&w[0]);
  const v128_t w8 = wasm_v128_load(&w[8]);
  out[0] = wasm_i64x2_shuffle(w0, w0, 0, 0);
  out[1] = wasm_i64x2_shuffle(w0, w0, 1, 1);
  out[2] = wasm_i64x2_shuffle(w8, w8, 0, 0);
  out[3] = wasm_i64x2_shuffle(w8, w8, 1, 1);
}

static int Disto4x4_Wasm(const uint8_t* WEBP_RESTRICT const a, const uint8_t* WEBP_RESTRICT const b,
                         const uint16_t* WEBP_RESTRICT const w) {
  v128_t wv[4], r[4];
  LoadWeights(w, wv);
  for (int i = 0; i < 4; i++) {
    r[i] = wasm_i64x2_shuffle(wasm_u16x8_load8x8(a + i * BPS), wasm_u16x8_load8x8(b + i * BPS), 0, 2);
  }
  const v128_t s = WeightedSums(r, wv);
  /* b's sum minus a's. */
  const v128_t d = wasm_i32x4_sub(wasm_i32x4_shuffle(s, s, 2, 3, 2, 3), s);
  return abs(wasm_i32x4_extract_lane(d, 0) + wasm_i32x4_extract_lane(d, 1)) >> 5;
}

/*
 * The same kernels by name, for the mode search's direct calls (patches/enc-direct-calls.patch,
 * src/dsp/imgpipe_enc_direct.h there): what the tables hold after imgpipe_webp_encoder_simd_init.
 */
int ImgpipeQuantizeBlock(int16_t in[16], int16_t out[16], const VP8Matrix* WEBP_RESTRICT const mtx) {
  return QuantizeBlockSharpen_Wasm(in, out, mtx);
}
int ImgpipeQuantize2Blocks(int16_t in[32], int16_t out[32], const VP8Matrix* WEBP_RESTRICT const mtx) {
  return Quantize2Blocks_Wasm(in, out, mtx);
}
int ImgpipeSSE16x16(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b) { return SSE16x16_Wasm(a, b); }
int ImgpipeSSE16x8(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b) { return SSE16x8_Wasm(a, b); }
int ImgpipeSSE4x4(const uint8_t* WEBP_RESTRICT a, const uint8_t* WEBP_RESTRICT b) { return SSE4x4_Wasm(a, b); }
int ImgpipeTDisto4x4(const uint8_t* WEBP_RESTRICT const a, const uint8_t* WEBP_RESTRICT const b,
                     const uint16_t* WEBP_RESTRICT const w) {
  return Disto4x4_Wasm(a, b, w);
}

/* Fill libwebp's encoder tables (once; later calls of their init functions keep them), then put ours in. */
void imgpipe_webp_encoder_simd_init(void) {
  static int done = 0;
  if (done) return;
  VP8EncDspInit();
  VP8EncQuantizeBlock = QuantizeBlockSharpen_Wasm;
  VP8EncQuantize2Blocks = Quantize2Blocks_Wasm;
  VP8EncQuantizeBlockWHT = QuantizeBlockWHT_Wasm;
  VP8SSE16x16 = SSE16x16_Wasm;
  VP8SSE16x8 = SSE16x8_Wasm;
  VP8SSE8x8 = SSE8x8_Wasm;
  VP8SSE4x4 = SSE4x4_Wasm;
  VP8TDisto4x4 = Disto4x4_Wasm;
  done = 1;
}
