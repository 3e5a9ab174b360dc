/*
 * imgpipe's interface to libwebp, compiled with libwebp's SSE2 code paths translated to WebAssembly
 * SIMD (Emscripten's SSE2 headers; libwebp 1.5 selects them for Emscripten builds when
 * WEBP_HAVE_SSE2 is set). The packaged @jsquash build uses libwebp's plain C paths, which made WebP
 * encoding the slowest step of the upload recipe.
 *
 * The interface is plain C with no JavaScript glue: the caller copies pixels in through
 * imgpipe_alloc, calls one function, and copies the result out of linear memory
 * (src/codecs/webp.ts). Built by scripts/build-libwebp.mjs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>
#include "webp/decode.h"
#include "webp/encode.h"
#include "src/dsp/dsp.h"
#include "src/dsp/lossless.h"
#include "src/utils/rescaler_utils.h"

#define EXPORT __attribute__((used, visibility("default")))

/* The lossy encoder's loops on WASM SIMD (enc_simd.c), put into libwebp's encoder tables. */
void imgpipe_webp_encoder_simd_init(void);

/* The last call's output, owned here until the next call or imgpipe_release(). */
static uint8_t* out_ptr = NULL;
static size_t out_size = 0;
static int out_width = 0, out_height = 0;

EXPORT void imgpipe_release(void) {
  WebPFree(out_ptr);
  out_ptr = NULL;
  out_size = 0;
}

EXPORT void* imgpipe_alloc(size_t bytes) { return malloc(bytes); }
EXPORT void imgpipe_free(void* p) { free(p); }
EXPORT uint8_t* imgpipe_output(void) { return out_ptr; }
EXPORT size_t imgpipe_output_size(void) { return out_size; }
EXPORT int imgpipe_output_width(void) { return out_width; }
EXPORT int imgpipe_output_height(void) { return out_height; }

/*
 * Four of libwebp's inner loops rewritten in WebAssembly SIMD, where its SSE2 versions run on
 * Emscripten's emulation of SSE2 (several WebAssembly instructions for one SSE2 instruction) or do
 * not apply. Each computes exactly what the function it replaces computes (the tests compare decodes
 * with sharp's native libwebp), and is installed in libwebp's own function-pointer tables after
 * libwebp has filled them (use_simd_loops).
 */

static WebPRescalerImportRowFunc libwebp_import_row_shrink;

/*
 * Which source pixels each output pixel of the rescaler's horizontal pass takes when shrinking by a
 * fraction, and the part of its last one it hands to the next output (-accum in libwebp's loop):
 * they depend only on the two widths, so they are worked out once per pair (the last few kept).
 */
#define IMGPIPE_SPANS 4
static struct {
  int x_add, x_sub;
  uint8_t* count; /* source pixels each output takes */
  uint16_t* debt; /* -accum after them */
} spans[IMGPIPE_SPANS];
static int spans_next = 0;

static int find_spans(int x_add, int x_sub, int n) {
  for (int i = 0; i < IMGPIPE_SPANS; i++) if (spans[i].count && spans[i].x_add == x_add && spans[i].x_sub == x_sub) return i;
  const int i = spans_next;
  spans_next = (spans_next + 1) % IMGPIPE_SPANS;
  free(spans[i].count);
  free(spans[i].debt);
  spans[i].count = (uint8_t*)malloc((size_t)n);
  spans[i].debt = (uint16_t*)malloc((size_t)n * sizeof(uint16_t));
  if (!spans[i].count || !spans[i].debt) {
    free(spans[i].count);
    free(spans[i].debt);
    spans[i].count = NULL;
    spans[i].debt = NULL;
    return -1;
  }
  int accum = 0;
  for (int x = 0; x < n; x++) {
    int c = 0;
    accum += x_add;
    while (accum > 0) {
      accum -= x_sub;
      c++;
    }
    spans[i].count[x] = (uint8_t)c;
    spans[i].debt[x] = (uint16_t)(-accum);
  }
  spans[i].x_add = x_add;
  spans[i].x_sub = x_sub;
  return i;
}

/*
 * A row shrunk by a fraction, from output `x` to the end: libwebp's C loop, a sample at a time for each
 * of `channels` interleaved channels, each channel's sum starting from its carry in `carry` (updated).
 * The SIMD loops below leave the outputs whose loads would run past the row's end to this.
 */
static void ShrinkFractionTail(WebPRescaler* WEBP_RESTRICT const wrk, const uint8_t* WEBP_RESTRICT src,
                               const uint8_t* const count, const uint16_t* const debt, int x, int channels,
                               uint32_t* const carry) {
  const uint32_t x_sub = (uint32_t)wrk->x_sub;
  rescaler_t* const frow = wrk->frow;
  for (; x < wrk->dst_width; x++) {
    const int c = count[x];
    for (int ch = 0; ch < channels; ch++) {
      uint32_t sum = carry[ch];
      for (int j = 0; j < c; j++) sum += src[channels * j + ch];
      const uint32_t frac = (uint32_t)src[channels * (c - 1) + ch] * debt[x];
      frow[channels * x + ch] = sum * x_sub - frac;
      carry[ch] = (uint32_t)(((uint64_t)frac * wrk->fx_scale + (WEBP_RESCALER_ONE >> 1)) >> WEBP_RESCALER_RFIX);
    }
    src += channels * c;
  }
}

/*
 * The horizontal pass of an RGBA row shrunk by a fraction below 7 (4096 to 720 is 5.7): libwebp's
 * C loop's arithmetic per channel, frow = (carry + whole pixels) * x_sub - last * debt and carry =
 * MULT_FIX(last * debt, fx_scale), with each output's pixels summed from two 16-byte loads masked to
 * its count, where libwebp's SSE2 version takes a pixel per step and a branch on each.
 */
static void ImportRgbaShrinkFraction(WebPRescaler* WEBP_RESTRICT const wrk, const uint8_t* WEBP_RESTRICT src,
                                     const uint8_t* const count, const uint16_t* const debt) {
  const int n = wrk->dst_width;
  const uint8_t* const end = src + 4 * wrk->src_width;
  const uint32_t x_sub = (uint32_t)wrk->x_sub;
  const v128_t mult = wasm_u32x4_splat(x_sub);
  const v128_t fx_scale = wasm_u32x4_splat(wrk->fx_scale);
  const v128_t rounder = wasm_u64x2_splat(WEBP_RESCALER_ONE >> 1);
  rescaler_t* frow = wrk->frow;
  /* A mask of the first 4c bytes of 32 starts 32 - 4c bytes into this. */
  static const uint8_t ones[64] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255};
  v128_t carry = wasm_i64x2_const(0, 0);
  int x = 0;
  for (; x < n && src + 32 <= end; x++) {
    const int c = count[x];
    const v128_t a = wasm_v128_and(wasm_v128_load(src), wasm_v128_load(ones + 32 - 4 * c));
    const v128_t b = wasm_v128_and(wasm_v128_load(src + 16), wasm_v128_load(ones + 48 - 4 * c));
    v128_t s = wasm_i16x8_add(wasm_i16x8_add(wasm_u16x8_extend_low_u8x16(a), wasm_u16x8_extend_high_u8x16(a)),
                              wasm_i16x8_add(wasm_u16x8_extend_low_u8x16(b), wasm_u16x8_extend_high_u8x16(b)));
    s = wasm_i16x8_add(s, wasm_i64x2_shuffle(s, s, 1, 1));
    src += 4 * c;
    const v128_t last = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(src - 4)));
    const v128_t frac = wasm_i32x4_mul(last, wasm_u32x4_splat(debt[x]));
    wasm_v128_store(frow + 4 * x, wasm_i32x4_sub(wasm_i32x4_mul(wasm_i32x4_add(carry, wasm_u32x4_extend_low_u16x8(s)), mult), frac));
    const v128_t lo = wasm_i64x2_add(wasm_u64x2_extmul_low_u32x4(frac, fx_scale), rounder);
    const v128_t hi = wasm_i64x2_add(wasm_u64x2_extmul_high_u32x4(frac, fx_scale), rounder);
    carry = wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7);
  }
  /* The last outputs, within 32 bytes of the row's end. */
  uint32_t tail_carry[4];
  wasm_v128_store(tail_carry, carry);
  ShrinkFractionTail(wrk, src, count, debt, x, 4, tail_carry);
}

/*
 * The horizontal pass of a plane (a lossy file's Y, U, V or alpha) shrunk by a fraction below 7
 * (4096 to 720 is 5.7, to 1200 3.4): libwebp's C loop's arithmetic, four outputs at a time. Each
 * output's samples (count[x], at most 7) come from an 8-byte load masked to its count, two outputs
 * to a vector, summed pairwise; the part of the last sample handed on (frac = last * debt) and its
 * carry into the next output (MULT_FIX(frac, fx_scale)) are worked out in 32- and 64-bit lanes. The
 * C loop takes a sample, a compare and a branch per step; an earlier loop of ours, one output at a
 * time from a masked 64-bit load, measured no faster than it. Four at a time halves this pass's
 * share of the lossy photo's 720 px decode (6% of the CPU profile to 3%).
 */
static void ImportPlaneShrinkFraction(WebPRescaler* WEBP_RESTRICT const wrk, const uint8_t* WEBP_RESTRICT src,
                                      const uint8_t* const count, const uint16_t* const debt) {
  const int n = wrk->dst_width;
  const uint8_t* const end = src + wrk->src_width;
  const uint32_t x_sub = (uint32_t)wrk->x_sub;
  const v128_t mult = wasm_u32x4_splat(x_sub);
  const v128_t fx_scale = wasm_u32x4_splat(wrk->fx_scale);
  const v128_t rounder = wasm_u64x2_splat(WEBP_RESCALER_ONE >> 1);
  rescaler_t* frow = wrk->frow;
  /* The mask of the first c bytes of 8 starts 8 - c bytes into this. */
  static const uint8_t ones[16] = {255, 255, 255, 255, 255, 255, 255, 255};
  /* The carry into the next output, in lane 3 (lanes 0-2 unused). */
  v128_t carry = wasm_i64x2_const(0, 0);
  int x = 0;
  for (; x + 4 <= n; x += 4) {
    const int c0 = count[x], c1 = count[x + 1], c2 = count[x + 2], c3 = count[x + 3];
    const uint8_t* const s1 = src + c0;
    const uint8_t* const s2 = s1 + c1;
    const uint8_t* const s3 = s2 + c2;
    if (s3 + 8 > end) break;
    v128_t a = wasm_v128_load64_lane(s1, wasm_v128_load64_zero(src), 1);
    v128_t b = wasm_v128_load64_lane(s3, wasm_v128_load64_zero(s2), 1);
    a = wasm_v128_and(a, wasm_v128_load64_lane(ones + 8 - c1, wasm_v128_load64_zero(ones + 8 - c0), 1));
    b = wasm_v128_and(b, wasm_v128_load64_lane(ones + 8 - c3, wasm_v128_load64_zero(ones + 8 - c2), 1));
    /* Per 32-bit lane a quarter of an 8-byte group's sum; then lanes 0+1, 2+3 of each. */
    const v128_t qa = wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(a));
    const v128_t qb = wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(b));
    const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(qa, qb, 0, 2, 4, 6), wasm_i32x4_shuffle(qa, qb, 1, 3, 5, 7));
    v128_t last = wasm_v128_load8_lane(src + c0 - 1, wasm_i64x2_const(0, 0), 0);
    last = wasm_v128_load8_lane(s1 + c1 - 1, last, 4);
    last = wasm_v128_load8_lane(s2 + c2 - 1, last, 8);
    last = wasm_v128_load8_lane(s3 + c3 - 1, last, 12);
    const v128_t frac = wasm_i32x4_mul(last, wasm_u32x4_extend_low_u16x8(wasm_v128_load64_zero(debt + x)));
    /* Each output's carry into the next: lanes 0-2 feed outputs x+1..x+3, lane 3 the next group. */
    const v128_t lo = wasm_i64x2_add(wasm_u64x2_extmul_low_u32x4(frac, fx_scale), rounder);
    const v128_t hi = wasm_i64x2_add(wasm_u64x2_extmul_high_u32x4(frac, fx_scale), rounder);
    const v128_t next = wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7);
    const v128_t in = wasm_i32x4_shuffle(carry, next, 3, 4, 5, 6);
    wasm_v128_store(frow + x, wasm_i32x4_sub(wasm_i32x4_mul(wasm_i32x4_add(in, sum), mult), frac));
    carry = next;
    src = s3 + c3;
  }
  /* The last outputs, within 8 bytes of the row's end. */
  uint32_t tail_carry = (uint32_t)wasm_i32x4_extract_lane(carry, 3);
  ShrinkFractionTail(wrk, src, count, debt, x, 1, &tail_carry);
}

/*
 * The rescaler's horizontal pass when shrinking by a whole factor k (source width k times the
 * output's: libwebp's accumulator then never carries a fraction from one output sample to the next),
 * for RGBA rows and single planes (a lossy file's Y, U, V and alpha): each output sample is the sum of
 * its k source samples times the output width (x_sub), as libwebp's loop leaves it in frow. Shrink-on-load
 * by 2, 4 and 8 of a width divisible by it always takes this path. Libwebp's SSE2 version walks the
 * source a pixel at a time and handles only RGBA; its C version a sample at a time. RGBA rows and
 * planes shrunk by a fraction below 7 go to ImportRgbaShrinkFraction and ImportPlaneShrinkFraction,
 * anything else to libwebp's.
 */
static void ImportRowShrinkWhole(WebPRescaler* WEBP_RESTRICT const wrk, const uint8_t* WEBP_RESTRICT src) {
  const int k = wrk->x_add / wrk->x_sub;
  const int channels = wrk->num_channels;
  if (k * wrk->x_sub != wrk->x_add && (channels == 4 || channels == 1) && wrk->x_add <= 7 * wrk->x_sub) {
    const int i = find_spans(wrk->x_add, wrk->x_sub, wrk->dst_width);
    if (i < 0) libwebp_import_row_shrink(wrk, src);
    else if (channels == 4) ImportRgbaShrinkFraction(wrk, src, spans[i].count, spans[i].debt);
    else ImportPlaneShrinkFraction(wrk, src, spans[i].count, spans[i].debt);
    return;
  }
  if (k * wrk->x_sub != wrk->x_add || k > 256 || (channels != 4 && !(channels == 1 && (k == 2 || k == 4 || k == 8)))) {
    libwebp_import_row_shrink(wrk, src);
    return;
  }
  const uint32_t x_sub = (uint32_t)wrk->x_sub;
  const v128_t mult = wasm_u32x4_splat(x_sub);
  rescaler_t* frow = wrk->frow;
  const int n = wrk->dst_width;
  int x = 0;
  if (channels == 4) {
    /* 16-bit sums: even pixels in the low half, odd ones in the high half (k * 255 fits). */
    for (; x < n; x++) {
      v128_t acc = wasm_i64x2_const(0, 0);
      int j = 0;
      for (; j + 2 <= k; j += 2, src += 8) acc = wasm_i16x8_add(acc, wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(src)));
      if (j < k) {
        acc = wasm_i16x8_add(acc, wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(src)));
        src += 4;
      }
      acc = wasm_i16x8_add(acc, wasm_i64x2_shuffle(acc, acc, 1, 1));
      wasm_v128_store(frow + 4 * x, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(acc), mult));
    }
    return;
  }
  /* One channel, 16 source samples at a time: pairwise sums once (k 2), twice (4), thrice (8). */
  const int per = 16 / k;
  for (; x + per <= n; x += per, src += 16) {
    const v128_t s16 = wasm_u16x8_extadd_pairwise_u8x16(wasm_v128_load(src));
    if (k == 2) {
      wasm_v128_store(frow + x, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(s16), mult));
      wasm_v128_store(frow + x + 4, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(s16), mult));
      continue;
    }
    const v128_t s32 = wasm_u32x4_extadd_pairwise_u16x8(s16);
    if (k == 4) {
      wasm_v128_store(frow + x, wasm_i32x4_mul(s32, mult));
    } else {
      const v128_t s64 = wasm_i32x4_add(s32, wasm_i32x4_shuffle(s32, s32, 1, 0, 3, 2));
      wasm_v128_store64_lane(frow + x, wasm_i32x4_mul(wasm_i32x4_shuffle(s64, s64, 0, 2, 0, 2), mult), 0);
    }
  }
  for (; x < n; x++) {
    uint32_t sum = 0;
    for (int j = 0; j < k; j++) sum += *src++;
    frow[x] = sum * x_sub;
  }
}

/* |a - b| summed over a pixel's four bytes, in each 32-bit lane. */
static inline v128_t SumAbsDiff(v128_t a, v128_t b) {
  const v128_t d = wasm_v128_or(wasm_u8x16_sub_sat(a, b), wasm_u8x16_sub_sat(b, a));
  return wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(d));
}

/*
 * VP8L's "select" predictor (11) added to a row of residuals: each pixel takes the top pixel T when
 * its left neighbour L is no closer to the top-left TL than T is (sum |L - TL| <= sum |T - TL| over
 * the four bytes), else L. The sums of |T - TL| are taken four pixels at once; the chain from one
 * pixel to the next (each L is the pixel just decoded) is the part libwebp's SSE2 version spends
 * Emscripten's eleven-instruction emulation of _mm_sad_epu8 on.
 */
static void PredictorAdd11_Wasm(const uint32_t* in, const uint32_t* upper, int num_pixels, uint32_t* WEBP_RESTRICT out) {
  int i = 0;
  v128_t L = wasm_i32x4_splat((int32_t)out[-1]);
  for (; i + 4 <= num_pixels; i += 4) {
    const v128_t T = wasm_v128_load(upper + i);
    const v128_t TL = wasm_v128_load(upper + i - 1);
    const v128_t src = wasm_v128_load(in + i);
    const v128_t pa = SumAbsDiff(T, TL);
#define IMGPIPE_PRED11(j)                                                                  \
    {                                                                                      \
      const v128_t t = wasm_i32x4_shuffle(T, T, j, j, j, j);                               \
      const v128_t pb = SumAbsDiff(L, wasm_i32x4_shuffle(TL, TL, j, j, j, j));             \
      const v128_t pred = wasm_v128_bitselect(L, t, wasm_u32x4_gt(pb, wasm_i32x4_shuffle(pa, pa, j, j, j, j))); \
      L = wasm_i8x16_add(wasm_i32x4_shuffle(src, src, j, j, j, j), pred);                  \
      out[i + j] = (uint32_t)wasm_i32x4_extract_lane(L, 0);                                \
    }
    IMGPIPE_PRED11(0)
    IMGPIPE_PRED11(1)
    IMGPIPE_PRED11(2)
    IMGPIPE_PRED11(3)
#undef IMGPIPE_PRED11
  }
  if (i != num_pixels) VP8LPredictorsAdd_C[11](in + i, upper + i, num_pixels - i, out + i);
}

static void (*libwebp_mult_argb_row)(uint32_t* const ptr, int width, int inverse);

/*
 * Alpha premultiplication of a row (inverse 0), which a lossless file's rows go through before
 * libwebp's rescaler: each colour byte v becomes ((v * a + 128) * 0x0101) >> 16, alpha is kept (its
 * lane multiplied by 255), exactly as libwebp's SSE2 version computes it, four pixels at a time
 * where that takes two with Emscripten's emulated shuffles. As there, a last odd pixel goes to
 * libwebp's C version; so does the inverse (on the rescaled rows).
 */
static void MultARGBRow_Wasm(uint32_t* const ptr, int width, int inverse) {
  if (inverse) {
    libwebp_mult_argb_row(ptr, width, inverse);
    return;
  }
  /* Bytes 16 and 17 of the shuffle: 0 and 0xff, for the multipliers' high bytes and alpha's 255. */
  const v128_t k = wasm_i8x16_const(0, (int8_t)0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  const v128_t k128 = wasm_i16x8_splat(128);
  int x = 0;
  for (; x + 2 <= width; x += 2) {
    const int four = x + 4 <= width;
    const v128_t v = four ? wasm_v128_load(ptr + x) : wasm_v128_load64_zero(ptr + x);
    /* x * 0x0101 >> 16 is (x + (x >> 8)) >> 8 for the 16-bit x here (at most 255 * 255 + 128). */
#define IMGPIPE_PREMULTIPLY(wide, mult)                                                     \
    ({                                                                                      \
      const v128_t t = wasm_i16x8_add(wasm_i16x8_mul(wide, mult), k128);                    \
      wasm_u16x8_shr(wasm_i16x8_add(t, wasm_u16x8_shr(t, 8)), 8);                           \
    })
    const v128_t lo = IMGPIPE_PREMULTIPLY(wasm_u16x8_extend_low_u8x16(v),
        wasm_i8x16_shuffle(v, k, 3, 16, 3, 16, 3, 16, 17, 16, 7, 16, 7, 16, 7, 16, 17, 16));
    const v128_t hi = IMGPIPE_PREMULTIPLY(wasm_u16x8_extend_high_u8x16(v),
        wasm_i8x16_shuffle(v, k, 11, 16, 11, 16, 11, 16, 17, 16, 15, 16, 15, 16, 15, 16, 17, 16));
#undef IMGPIPE_PREMULTIPLY
    const v128_t out = wasm_u8x16_narrow_i16x8(lo, hi);
    if (four) {
      wasm_v128_store(ptr + x, out);
      x += 2;
    } else {
      wasm_v128_store64_lane(ptr + x, out, 0);
    }
  }
  if (x < width) libwebp_mult_argb_row(ptr + x, width - x, inverse);
}

/* Fill libwebp's function tables (once; later calls of their init functions keep them), then put ours in. */
static void use_simd_loops(void) {
  static int done = 0;
  if (done) return;
  WebPRescalerDspInit();
  VP8LDspInit();
  WebPInitAlphaProcessing();
  libwebp_mult_argb_row = WebPMultARGBRow;
  WebPMultARGBRow = MultARGBRow_Wasm;
  libwebp_import_row_shrink = WebPRescalerImportRowShrink;
  WebPRescalerImportRowShrink = ImportRowShrinkWhole;
  VP8LPredictorsAdd[11] = PredictorAdd11_Wasm;
  done = 1;
}

/* What a libwebp call that failed on `picture` says went wrong (out of memory when it says nothing). */
static int picture_error(const WebPPicture* picture) {
  return picture->error_code != VP8_ENC_OK ? picture->error_code : VP8_ENC_ERROR_OUT_OF_MEMORY;
}

/*
 * Encode `picture` (its pixels imported: YUV for lossy, ARGB for lossless) with the settings sharp
 * (libvips webpsave) uses by default: libwebp's default preset at `quality`, effort (`method`) as
 * given; the file becomes the output. Frees the picture. Returns 0 on success, else libwebp's
 * WebPEncodingError code (1 and 2 are out of memory).
 */
static int encode_picture(WebPPicture* picture, float quality, int method, int lossless) {
  const int width = picture->width, height = picture->height;
  WebPConfig config;
  WebPMemoryWriter writer;
  int error;
  imgpipe_webp_encoder_simd_init();
  if (!WebPConfigInit(&config)) {
    WebPPictureFree(picture);
    return VP8_ENC_ERROR_INVALID_CONFIGURATION;
  }
  config.quality = quality;
  config.method = method;
  config.lossless = lossless;
  if (!WebPValidateConfig(&config)) {
    WebPPictureFree(picture);
    return VP8_ENC_ERROR_INVALID_CONFIGURATION;
  }
  WebPMemoryWriterInit(&writer);
  picture->writer = WebPMemoryWrite;
  picture->custom_ptr = &writer;
  error = WebPEncode(&config, picture) ? VP8_ENC_OK : picture_error(picture);
  WebPPictureFree(picture);
  if (error != VP8_ENC_OK) {
    WebPMemoryWriterClear(&writer);
    return error;
  }
  out_ptr = writer.mem;
  out_size = writer.size;
  out_width = width;
  out_height = height;
  return 0;
}

/*
 * Encode `rgba` (width x height, from imgpipe_alloc), which this call takes and frees, as
 * encode_picture does. It is freed as soon as libwebp has converted it (to YUV for lossy, ARGB for
 * lossless), before the encode proper: the encoder's own allocations then reuse its space instead of
 * fresh memory above it, so a fresh instance's first 1200 px encode touches ~490 fewer pages (~20 us
 * each the first time on a Firecracker VM; a cold process's first recipe pays for every one) and the
 * module stays smaller.
 */
EXPORT int imgpipe_webp_encode(uint8_t* rgba, int width, int height, float quality, int method, int lossless) {
  WebPPicture picture;
  int ok, error;
  imgpipe_release();
  if (!WebPPictureInit(&picture)) {
    free(rgba);
    return VP8_ENC_ERROR_INVALID_CONFIGURATION;
  }
  picture.width = width;
  picture.height = height;
  /* Lossless works on ARGB; lossy on YUV, converted from RGBA as sharp's libwebp does. */
  picture.use_argb = lossless;
  ok = WebPPictureImportRGBA(&picture, rgba, width * 4);
  free(rgba);
  if (!ok) {
    error = picture_error(&picture);
    WebPPictureFree(&picture);
    return error;
  }
  return encode_picture(&picture, quality, method, lossless);
}

/*
 * The lossy encode of an opaque image whose RGBA rows come in bands (imgpipe_webp_band_begin, _rows,
 * _encode) instead of whole: only a band is ever copied into this module, and libwebp converts each
 * band to YUV 4:2:0 into the whole picture. A 1200 px image's 4.7 MB of RGBA then never land in this
 * memory: a fresh instance's first encode touches ~1,150 fewer pages (~20 us each the first time on
 * a Firecracker VM, which a cold process's first upload pays) and a warm one holds less. The
 * picture is the one WebPPictureImportRGBA makes of the whole image: that import converts rows two
 * by two, so bands of an even number of rows give the same planes, and an opaque source gives no
 * alpha plane. A band with transparency ends it (the caller encodes the whole image instead).
 */
static WebPPicture band_picture;
static uint8_t* band_rgba = NULL;
static int band_open = 0;

static void band_close(void) {
  if (band_open) WebPPictureFree(&band_picture);
  band_open = 0;
  free(band_rgba);
  band_rgba = NULL;
}

/* Start a banded encode of `width` x `height`, bands of `rows` (even) rows: returns where each band's RGBA goes, or NULL (out of memory). */
EXPORT uint8_t* imgpipe_webp_band_begin(int width, int height, int rows) {
  imgpipe_release();
  band_close();
  if (rows <= 0 || (rows & 1) || !WebPPictureInit(&band_picture)) return NULL;
  band_picture.width = width;
  band_picture.height = height;
  band_picture.use_argb = 0;
  band_picture.colorspace = WEBP_YUV420;
  if (!WebPPictureAlloc(&band_picture)) return NULL;
  band_open = 1;
  band_rgba = (uint8_t*)malloc((size_t)width * rows * 4);
  if (band_rgba == NULL) band_close();
  return band_rgba;
}

/*
 * Rows `y0` until `y0 + rows` (`y0` even; `rows` the band size, or fewer for the last band) are at
 * the band: convert them. Returns 0, -1 when a pixel is not opaque (the banded encode is over), or
 * libwebp's WebPEncodingError.
 */
EXPORT int imgpipe_webp_band_rows(int y0, int rows) {
  const int width = band_picture.width;
  WebPPicture part;
  int r, error;
  if (!band_open || (y0 & 1) || y0 + rows > band_picture.height) return VP8_ENC_ERROR_INVALID_CONFIGURATION;
  WebPInitAlphaProcessing();
  if (WebPHasAlpha32b(band_rgba + 3, width * rows)) {
    band_close();
    return -1;
  }
  if (!WebPPictureInit(&part)) return VP8_ENC_ERROR_INVALID_CONFIGURATION;
  part.width = width;
  part.height = rows;
  if (!WebPPictureImportRGBA(&part, band_rgba, width * 4)) {
    error = picture_error(&part);
    WebPPictureFree(&part);
    return error;
  }
  for (r = 0; r < rows; r++) {
    memcpy(band_picture.y + (size_t)(y0 + r) * band_picture.y_stride, part.y + (size_t)r * part.y_stride, width);
  }
  for (r = 0; r < (rows + 1) >> 1; r++) {
    const size_t at = (size_t)((y0 >> 1) + r) * band_picture.uv_stride;
    memcpy(band_picture.u + at, part.u + (size_t)r * part.uv_stride, (width + 1) >> 1);
    memcpy(band_picture.v + at, part.v + (size_t)r * part.uv_stride, (width + 1) >> 1);
  }
  WebPPictureFree(&part);
  return 0;
}

/* Encode the banded picture (every row converted) as imgpipe_webp_encode would the whole image; returns as it does. */
EXPORT int imgpipe_webp_band_encode(float quality, int method) {
  if (!band_open) return VP8_ENC_ERROR_INVALID_CONFIGURATION;
  free(band_rgba);
  band_rgba = NULL;
  /* encode_picture frees the picture. */
  band_open = 0;
  return encode_picture(&band_picture, quality, method, 0);
}

#ifdef IMGPIPE_WEBP_THREADS
/*
 * The threaded build (imgpipe_webp_threads.wasm, Node): libwebp's lossy decoder hands each macroblock
 * row's reconstruction, loop filter and output (its `mt_method_` 2, what sharp's libwebp does on a
 * second thread) to a WebPWorker while the calling thread parses the next row's coefficients. A
 * WebAssembly module cannot start a thread, so the worker interface below asks its embedder
 * (src/codecs/webp-threads.ts, entries/node-webp-helper.ts): a helper thread holds a second instance
 * of this module on the same shared memory, runs imgpipe_webp_thread_run(worker) when launched, and
 * the calling thread waits for it on an Atomics futex. When no helper is there (launch answers 0) the
 * hook runs in the calling thread, in turn: the same work on the same rows, the same pixels as
 * libwebp's one-thread decode. Only the calling thread ever
 * allocates: the hook (reconstruction, filter, rescaler, RGBA output) does not, and files with an
 * alpha plane, whose decoding in the hook does allocate, are decoded on one thread
 * (imgpipe_webp_decode).
 */
#include "src/utils/thread_utils.h"

__attribute__((import_module("env"), import_name("imgpipe_thread_launch"))) extern int imgpipe_thread_launch(WebPWorker* worker);
__attribute__((import_module("env"), import_name("imgpipe_thread_wait"))) extern int imgpipe_thread_wait(WebPWorker* worker);

static void helper_execute(WebPWorker* const worker) {
  if (worker->hook != NULL) worker->had_error |= !worker->hook(worker->data1, worker->data2);
}

EXPORT void imgpipe_webp_thread_run(WebPWorker* worker) { helper_execute(worker); }

static void helper_init(WebPWorker* const worker) {
  memset(worker, 0, sizeof(*worker));
  worker->status_ = NOT_OK;
}

static int helper_sync(WebPWorker* const worker) {
  if (worker->status_ == WORK) {
    /* 0: the helper trapped inside the hook; the decode fails as a hook error would make it. */
    if (!imgpipe_thread_wait(worker)) worker->had_error = 1;
    worker->status_ = OK;
  }
  return !worker->had_error;
}

static int helper_reset(WebPWorker* const worker) {
  worker->had_error = 0;
  if (worker->status_ < OK) {
    worker->status_ = OK;
    return 1;
  }
  return helper_sync(worker);
}

static void helper_launch(WebPWorker* const worker) {
  if (imgpipe_thread_launch(worker)) worker->status_ = WORK;
  else helper_execute(worker);
}

static void helper_end(WebPWorker* const worker) {
  helper_sync(worker);
  worker->status_ = NOT_OK;
}

static const WebPWorkerInterface helper_interface = {
  helper_init, helper_reset, helper_sync, helper_launch, helper_execute, helper_end,
};
#endif

/*
 * Decode a still WebP file to non-premultiplied RGBA, at `scaled_width` x `scaled_height` when both
 * are positive (libwebp's own rescaler, applied as rows are decoded: shrink-on-load, as libvips'
 * webpload does it), else at full size. Returns 0 on success, else libwebp's VP8StatusCode (1 is out
 * of memory, 3 is a damaged bitstream, 7 is truncated data).
 */
EXPORT int imgpipe_webp_decode(const uint8_t* data, size_t size, int scaled_width, int scaled_height) {
  imgpipe_release();
  WebPDecoderConfig config;
  use_simd_loops();
  if (!WebPInitDecoderConfig(&config)) return VP8_STATUS_INVALID_PARAM;
  VP8StatusCode status = WebPGetFeatures(data, size, &config.input);
  if (status != VP8_STATUS_OK) return status;
  config.output.colorspace = MODE_RGBA;
#ifdef IMGPIPE_WEBP_THREADS
  WebPSetWorkerInterface(&helper_interface);
  /* libwebp threads lossy files 512 px wide and wider (VP8GetThreadMethod); see helper_interface. */
  config.options.use_threads = !config.input.has_alpha;
#endif
  if (scaled_width > 0 && scaled_height > 0) {
    config.options.use_scaling = 1;
    config.options.scaled_width = scaled_width;
    config.options.scaled_height = scaled_height;
  }
  status = WebPDecode(data, size, &config);
  if (status != VP8_STATUS_OK) {
    WebPFreeDecBuffer(&config.output);
    return status;
  }
  /* The decoder allocated the whole RGBA buffer in one block (is_external_memory = 0). */
  out_ptr = config.output.u.RGBA.rgba;
  out_size = config.output.u.RGBA.size;
  out_width = config.output.width;
  out_height = config.output.height;
  return 0;
}
