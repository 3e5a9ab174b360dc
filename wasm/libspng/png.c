/*
 * imgpipe's interface to libspng (with zlib's inflate), compiled with libspng's SSE2/SSSE3 unfilter
 * paths on WebAssembly SIMD (Emscripten's SSE headers). Replaces the Rust `png` crate build, which has
 * no SIMD and decodes the whole image at once.
 *
 * A decode is begin, then steps of rows: a non-interlaced image's rows are decoded into a ring of
 * `ring_rows` rows that the caller copies out (into the resize kernel) as they come, so the whole
 * image is never held; with `ring_rows` 0, or for an Adam7 image (whose every row is only complete
 * after the seventh pass), the rows are decoded into one whole-image buffer. Every PNG comes out as
 * 8-bit non-premultiplied RGBA: palette expanded, tRNS applied, 16-bit samples reduced to their high
 * byte, gAMA not applied (as sharp, through libvips' libspng loader, decodes).
 *
 * A photo's image data is inflated whole by libdeflate first where that pays (see inflate_whole); an
 * 8-bit RGB or RGBA photo's rows are then unfiltered here with libspng's own unfilter (see own_row).
 *
 * The chunk policy (which critical CRCs refuse a file, which ancillary problems drop a chunk) is
 * applied before this sees the file (src/codecs/png-chunks.ts), so libspng is asked not to check CRCs
 * again. Plain C, no JavaScript glue; built by scripts/build-libspng.mjs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>
#include "libdeflate.h"
#include "spng.h"

#define EXPORT __attribute__((used, visibility("default")))

/* The output-buffer protocol (src/codecs/instance.ts: OutputBufferExports). */
static uint8_t* out_ptr = NULL;
static size_t out_size = 0;
static int out_width = 0, out_height = 0;

/* The decode in progress. */
static spng_ctx* ctx = NULL;
static uint32_t ring = 0;     /* rows in out_ptr's ring; 0: the whole image */
static uint32_t rows_out = 0; /* rows decoded so far */
static int finished = 0;
/* Whether the image data was inflated whole (inflate_whole): WHOLE_STORED or WHOLE_OWN, else 0. */
static int whole = 0;
/* The caller's copy of the PNG (imgpipe_alloc), owned here from imgpipe_png_begin on; when its image
   data was inflated whole, the same buffer grown and holding that data stored (WHOLE_STORED) or just
   the filtered image (WHOLE_OWN), see inflate_whole. */
static uint8_t* png_buf = NULL;
/* libdeflate's state, made once (see imgpipe_png_input). */
static struct libdeflate_decompressor* inflater = NULL;
/* With WHOLE_OWN: the row's bytes in png_buf (its filter byte and its pixels), the bytes per pixel,
   the colour type, and the row of zeros that stands above the first (see own_row). */
static size_t own_scanline = 0;
static unsigned own_bpp = 0, own_color = 0;
static uint8_t* zero_row = NULL;

/* libspng's own unfilter (its SSE2/SSSE3 paths for 3- and 4-byte pixels), made callable from here by
   wasm/libspng/patches/export-defilter.patch. */
int defilter_scanline(const unsigned char* prev_scanline, unsigned char* scanline, size_t scanline_width, unsigned bytes_per_pixel, unsigned filter);

EXPORT void imgpipe_release(void) {
  spng_ctx_free(ctx);
  ctx = NULL;
  free(png_buf);
  png_buf = NULL;
  free(zero_row);
  zero_row = NULL;
  own_scanline = 0;
  own_bpp = own_color = 0;
  free(out_ptr);
  out_ptr = NULL;
  out_size = 0;
  out_width = out_height = 0;
  ring = rows_out = 0;
  finished = whole = 0;
}

EXPORT void* imgpipe_alloc(size_t bytes) { return malloc(bytes); }

/*
 * The buffer to copy a PNG of `bytes` bytes into for imgpipe_png_begin. libdeflate's state is made
 * first (once), so that the input is the heap's last block and inflate_whole can grow it in place.
 */
EXPORT void* imgpipe_png_input(size_t bytes) {
  if (inflater == NULL) inflater = libdeflate_alloc_decompressor();
  return malloc(bytes);
}
EXPORT void imgpipe_free(void* p) { free(p); }
EXPORT uint8_t* imgpipe_output(void) { return out_ptr; }
EXPORT size_t imgpipe_output_size(void) { return out_size; }
EXPORT int imgpipe_output_width(void) { return out_width; }
EXPORT int imgpipe_output_height(void) { return out_height; }

/* Rows in out_ptr's ring (the image's height when it holds the whole image). */
EXPORT uint32_t imgpipe_png_ring(void) { return ring == 0 ? (uint32_t)out_height : ring; }
/* 0 when the decode in progress inflates its image data through zlib row by row; else libdeflate
   inflated it whole, and it is 1 when libspng unfilters it (WHOLE_STORED), 2 when png.c does (WHOLE_OWN). */
EXPORT int imgpipe_png_whole(void) { return whole; }
/* Rows decoded so far. */
EXPORT uint32_t imgpipe_png_rows_out(void) { return rows_out; }
/* libspng's message for an error code (a static string). */
EXPORT const char* imgpipe_png_message(int error) { return spng_strerror(error); }

/*
 * A PNG's image data through libdeflate: libdeflate inflates a photo's IDAT stream about 1.7x as fast
 * as zlib does row by row in WebAssembly (44 against 75 ms for a 2725x2225 RGB photo; sharp's zlib-ng
 * has SIMD inflate), but only a whole stream into a whole buffer. So for a photo-like PNG the stream is
 * inflated whole here. An 8-bit RGB or RGBA photo's rows are then unfiltered and converted here with
 * libspng's own code (unfilter_here, own_row); any other PNG is handed to libspng with that data in
 * one IDAT of stored (level 0) deflate blocks: zlib then only copies, and libspng unfilters and
 * converts the rows exactly as before. Same pixels, same ring of rows either way. It costs the filtered image (height x (row bytes + 1))
 * held at once, in the input's own buffer (grown, the compressed data moved to its end and inflated
 * towards it, see inflate_whole): about the filtered image rather than it and the file. It is taken
 * only where it pays: when the data inflates at most FAST_MAX_RATIO
 * times (a graphic's highly compressed stream inflates about as fast with zlib: 17 against 19 ms for a
 * 3640x2048 RGBA graphic that inflates 30x) and to at most FAST_MAX_BYTES. Anything unusual (Adam7,
 * IDATs not in one run, a zlib header zlib would refuse, a stream that is damaged or does not end
 * exactly with the image) goes to zlib unchanged, which decodes or refuses it as it always did.
 */
#define FAST_MAX_RATIO 4
#define FAST_MAX_BYTES (64u << 20)
#define STORED_BLOCK 65535u
/* Room between the inflate's output and its input's end (see inflate_whole). */
#define INPLACE_MARGIN (64u << 10)
/* imgpipe_png_begin's answer when the input was rearranged for libdeflate but libdeflate declined it:
   the caller copies the PNG in again and begins without the fast path. */
#define RETRY_WITH_ZLIB (-1)
/* What imgpipe_png_whole() says of a decode whose image data libdeflate inflated: libspng unfilters it
   from stored blocks, or png.c does (own_row). */
#define WHOLE_STORED 1
#define WHOLE_OWN 2

static uint32_t be32(const uint8_t* p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put_be32(uint8_t* p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

/* The sum of v's four 32-bit lanes. */
static uint64_t lanes(v128_t v) {
  return (uint64_t)(uint32_t)wasm_i32x4_extract_lane(v, 0) + (uint32_t)wasm_i32x4_extract_lane(v, 1) +
         (uint32_t)wasm_i32x4_extract_lane(v, 2) + (uint32_t)wasm_i32x4_extract_lane(v, 3);
}

/*
 * The Adler-32 of p[0, n) (RFC 1950) on WebAssembly SIMD, 32 bytes a step: libdeflate's and zlib's
 * are byte by byte here and would cost a photo's decode about 6 ms. Over a step's bytes b[0..31],
 * s1 grows by their sum and s2 by 32 x the s1 before them plus the sum of (32 - i) x b[i]; up to 173
 * steps (5,536 bytes, as zlib's NMAX) go between reductions modulo 65521.
 */
static uint32_t adler32_simd(const uint8_t* p, size_t n) {
  const v128_t w0 = wasm_i16x8_make(32, 31, 30, 29, 28, 27, 26, 25), w1 = wasm_i16x8_make(24, 23, 22, 21, 20, 19, 18, 17);
  const v128_t w2 = wasm_i16x8_make(16, 15, 14, 13, 12, 11, 10, 9), w3 = wasm_i16x8_make(8, 7, 6, 5, 4, 3, 2, 1);
  uint64_t s1 = 1, s2 = 0;
  while (n >= 32) {
    size_t steps = n / 32 > 173 ? 173 : n / 32;
    v128_t sums = wasm_i32x4_splat(0), before = wasm_i32x4_splat(0), weighted = wasm_i32x4_splat(0);
    for (size_t j = 0; j < steps; j++, p += 32) {
      v128_t a = wasm_v128_load(p), b = wasm_v128_load(p + 16);
      before = wasm_i32x4_add(before, sums);
      v128_t pairs = wasm_i16x8_add(wasm_u16x8_extadd_pairwise_u8x16(a), wasm_u16x8_extadd_pairwise_u8x16(b));
      sums = wasm_i32x4_add(sums, wasm_u32x4_extadd_pairwise_u16x8(pairs));
      v128_t wa = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(a), w0), wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(a), w1));
      v128_t wb = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(b), w2), wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(b), w3));
      weighted = wasm_i32x4_add(weighted, wasm_i32x4_add(wa, wb));
    }
    n -= steps * 32;
    s2 = (s2 + 32 * steps * s1 + 32 * lanes(before) + lanes(weighted)) % 65521;
    s1 = (s1 + lanes(sums)) % 65521;
  }
  for (; n > 0; n--) {
    s1 += *p++;
    s2 += s1;
  }
  return (uint32_t)((s2 % 65521) << 16 | (s1 % 65521));
}

/* A libspng context over data[0, size) with imgpipe's settings, its IHDR in `ihdr`. */
static int open_ctx(const uint8_t* data, size_t size, struct spng_ihdr* ihdr) {
  ctx = spng_ctx_new(0);
  if (ctx == NULL) return SPNG_EMEM;
  int error = spng_set_crc_action(ctx, SPNG_CRC_USE, SPNG_CRC_USE);
  if (!error) error = spng_set_png_buffer(ctx, data, size);
  /* The limits were checked against the header before this call: libspng's own are its maxima. */
  if (!error) error = spng_set_image_limits(ctx, 0x7fffffff, 0x7fffffff);
  if (!error) error = spng_set_chunk_limits(ctx, 0x7fffffff, 0x7fffffff);
  if (!error) error = spng_get_ihdr(ctx, ihdr);
  return error;
}

/*
 * The fast path, on png_buf (`size` bytes): WHOLE_STORED when `*png`/`*size` now point at a PNG whose
 * image data is stored (png_buf, grown); with `own` set, WHOLE_OWN instead when png_buf now holds
 * just the filtered image (height rows of own_scanline bytes, each a filter byte and the row's
 * pixels), for own_row to unfilter; 0 when the PNG is left for zlib untouched, RETRY_WITH_ZLIB when
 * the buffer was rearranged and libdeflate declined it, SPNG_EMEM when memory ran out.
 *
 * The stream is inflated in the same buffer: grown to the stored PNG's size (with `own`, the filtered
 * image's) plus INPLACE_MARGIN, the
 * compressed data moved to its end, and the image data inflated from the start towards it. The output
 * overtakes no input it still has to read as long as no stretch of the stream near its end inflates
 * to less than it takes (zlib, choosing stored blocks over expanding ones, never writes such a stream
 * beyond 5 bytes per 64 KiB block). A stream that does is read wrongly and then fails the zlib
 * stream's checks (the Adler-32 of the image data, the lengths): it goes to zlib, as a damaged one does.
 * A photo's decode holds about the filtered image instead of it and the file (20 against 33 MB for
 * a 2725x2225 RGB photo).
 */
static int inflate_whole(size_t size, const struct spng_ihdr* ihdr, int own, const uint8_t** png, size_t* png_size) {
  uint8_t* data = png_buf;
  static const uint8_t channels[7] = {1, 0, 3, 1, 2, 0, 4};
  if (ihdr->interlace_method != 0 || ihdr->color_type > 6) return 0;
  uint64_t row = ((uint64_t)ihdr->width * channels[ihdr->color_type] * ihdr->bit_depth + 7) / 8 + 1;
  uint64_t filtered = row * ihdr->height;
  if (filtered == 0 || filtered > FAST_MAX_BYTES) return 0;
  /* The IDAT run: where it starts and ends, how much data it holds; a second run leaves it to zlib. */
  size_t first = 0, end = 0, at = 8;
  uint64_t stream = 0;
  while (at + 12 <= size) {
    uint32_t length = be32(data + at);
    if (length > size - at - 12) return 0;
    int idat = data[at + 4] == 'I' && data[at + 5] == 'D' && data[at + 6] == 'A' && data[at + 7] == 'T';
    if (idat && end != 0) return 0;
    if (idat && first == 0) first = at;
    if (idat) stream += length;
    if (!idat && first != 0 && end == 0) end = at;
    at += 12 + (size_t)length;
  }
  if (first == 0) return 0;
  if (end == 0) end = at;
  if (stream < 6 || filtered > stream * FAST_MAX_RATIO) return 0;
  /* zlib's header as zlib checks it: deflate, a window of at most 32 KiB, no preset dictionary. */
  const uint8_t* z = data + first + 8;
  if (be32(data + first) < 2 || (z[0] & 0x0f) != 8 || (z[0] >> 4) > 7 || (z[1] & 0x20) || (z[0] * 256 + z[1]) % 31) return 0;
  uint64_t blocks = (filtered + STORED_BLOCK - 1) / STORED_BLOCK;
  uint64_t idat_length = 2 + blocks * 5 + filtered + 4;
  size_t suffix = size - end;
  size_t stored_size = first + 12 + idat_length + suffix;
  /* With `own`, only the filtered image is kept: no stored blocks, no chunks around them. */
  size_t needed = own ? (size_t)filtered : stored_size;
  size_t capacity = (needed > size ? needed : size) + INPLACE_MARGIN;
  if (inflater == NULL) return SPNG_EMEM;
  /* The IDATs' data made contiguous in place (it only moves towards the start). */
  uint8_t* compressed = data + first + 8;
  size_t packed = 0;
  for (at = first; at < end;) {
    /* Read before the move, which may overwrite this chunk's own header. */
    uint32_t length = be32(data + at);
    size_t next = at + 12 + (size_t)length;
    memmove(compressed + packed, data + at + 8, length);
    packed += length;
    at = next;
  }
  /* Grown, the chunks before the IDATs staying where they are. The input is the heap's last block
     (imgpipe_png_input) once the libspng context made after it is freed (imgpipe_png_begin opens a
     new one on the result): with that much free at the heap's end (malloc takes it from the top, free
     gives it back there, the top never shrinks), realloc grows it in place rather than copying it. */
  spng_ctx_free(ctx);
  ctx = NULL;
  void* volatile room = malloc(capacity - size); /* volatile: a malloc freed unused is optimised away */
  free(room);
  uint8_t* out = realloc(data, capacity);
  if (out == NULL) return SPNG_EMEM;
  png_buf = out;
  uint32_t adler;
  size_t in_used = 0, got = 0;
  if (own) {
    /* The compressed data moved to the end and inflated from the start towards it. */
    uint8_t* input = out + capacity - packed;
    memmove(input, out + first + 8, packed);
    adler = be32(input + packed - 4);
    enum libdeflate_result r = libdeflate_deflate_decompress_ex(inflater, input + 2, packed - 2, out, filtered, &in_used, &got);
    /* The same checks as below. */
    if (r != LIBDEFLATE_SUCCESS || got != filtered || in_used + 2 + 4 != packed || adler32_simd(out, filtered) != adler) return RETRY_WITH_ZLIB;
    own_scanline = (size_t)row;
    return WHOLE_OWN;
  }
  /* The chunks after the IDATs (IEND at least), put back after the stored IDAT at the end; then the
     compressed data moved to the end. */
  uint8_t* tail = malloc(suffix);
  if (tail == NULL) return SPNG_EMEM;
  memcpy(tail, out + end, suffix);
  uint8_t* input = out + capacity - packed;
  memmove(input, out + first + 8, packed);
  /* Inflated where its last block's data belongs, then each block moved down to make room for the
     5-byte stored-block headers in front of it (every move is to a lower address). */
  uint8_t* idat = out + first + 8;
  uint8_t* pixels = idat + 2 + blocks * 5;
  adler = be32(input + packed - 4);
  enum libdeflate_result r = libdeflate_deflate_decompress_ex(inflater, input + 2, packed - 2, pixels, filtered, &in_used, &got);
  /* The stream must end exactly with the image and its checksum, as zlib would see it, and that
     checksum must be the image data's (see above). */
  if (r != LIBDEFLATE_SUCCESS || got != filtered || in_used + 2 + 4 != packed || adler32_simd(pixels, filtered) != adler) {
    free(tail);
    return RETRY_WITH_ZLIB;
  }
  put_be32(out + first, (uint32_t)idat_length);
  memcpy(out + first + 4, "IDAT", 4);
  idat[0] = 0x78;
  idat[1] = 0x01;
  for (uint64_t b = 0; b < blocks; b++) {
    uint32_t n = b + 1 < blocks ? STORED_BLOCK : (uint32_t)(filtered - b * STORED_BLOCK);
    uint8_t* block = idat + 2 + b * (STORED_BLOCK + 5);
    memmove(block + 5, pixels + b * STORED_BLOCK, n);
    block[0] = b + 1 == blocks;
    block[1] = n & 0xff;
    block[2] = n >> 8;
    block[3] = ~n & 0xff;
    block[4] = (~n >> 8) & 0xff;
  }
  /* The stored stream's checksums (its Adler-32, the chunk's CRC) are not checked: libspng is told
     CRC_USE, which also turns zlib's Adler-32 check off; the original chunks' CRCs were checked
     before. (A file whose Adler-32 is wrong, which zlib decodes unchecked, goes to zlib.) */
  memset(idat + idat_length - 4, 0, 8);
  memcpy(idat + idat_length + 4, tail, suffix);
  free(tail);
  *png = out;
  *png_size = stored_size;
  return WHOLE_STORED;
}

/*
 * Which photos png.c unfilters itself (WHOLE_OWN), the PNG's chunks before its image data having been
 * read (and accepted) by libspng: 8-bit RGB and RGBA without tRNS, not interlaced. For those,
 * libspng's decode to RGBA8 (with imgpipe's flags: tRNS applied, no gamma, no sBIT) only unfilters
 * each row (defilter_scanline) and copies RGBA's pixels or widens RGB's (rgb8_row_to_rgba8), which
 * own_row does with the same unfilter and the same widening on SIMD (rgb8_to_rgba8_simd). Then
 * zlib's inflate() is never called: on the stored path it is called once per row only to copy, and
 * that makes V8 optimise it, a 9 MB compile that glibc keeps.
 * Every other PNG (palette, grey, 16-bit, tRNS) stays with libspng, which does more per row.
 */
static int unfilter_here(const struct spng_ihdr* ihdr) {
  struct spng_trns trns;
  if (ihdr->bit_depth != 8 || ihdr->interlace_method != 0) return 0;
  if (ihdr->color_type != SPNG_COLOR_TYPE_TRUECOLOR && ihdr->color_type != SPNG_COLOR_TYPE_TRUECOLOR_ALPHA) return 0;
  return spng_get_trns(ctx, &trns) == SPNG_ECHUNKAVAIL;
}

/*
 * An RGB8 row of `n` pixels as RGBA8, alpha 255: what libspng's rgb8_row_to_rgba8 does (a 3-byte
 * copy and a store per pixel), 4 pixels a step on WebAssembly SIMD: the 2725x2225 RGB photo's rows
 * take 3.1 instead of 4.8 ms (bench/png-module-ab.mjs). A step loads 16 bytes for its 12, so it runs
 * while 16 are in the row; the last pixels go one by one.
 */
static void rgb8_to_rgba8_simd(const uint8_t* row, uint8_t* out, uint32_t n) {
  const v128_t spread = wasm_i8x16_make(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1);
  const v128_t opaque = wasm_i32x4_splat((int32_t)0xff000000);
  uint32_t i = 0;
  for (; i + 6 <= n; i += 4) {
    /* swizzle answers 0 for the lanes indexed -1 (out of range): the alpha bytes, then set to 255. */
    wasm_v128_store(out + i * 4, wasm_v128_or(wasm_i8x16_swizzle(wasm_v128_load(row + i * 3), spread), opaque));
  }
  for (; i < n; i++) {
    out[i * 4] = row[i * 3];
    out[i * 4 + 1] = row[i * 3 + 1];
    out[i * 4 + 2] = row[i * 3 + 2];
    out[i * 4 + 3] = 255;
  }
}

/*
 * Row `r` of a WHOLE_OWN decode, unfiltered in png_buf (in place: the row above is already unfiltered,
 * as libspng's previous scanline is) and written to `out` as RGBA8. libspng checks each row's filter
 * type when it reads the row above (the first one's at the start), and so does this.
 */
static int own_row(uint32_t r, uint8_t* out) {
  uint8_t* line = png_buf + (size_t)r * own_scanline;
  if (r + 1 < (uint32_t)out_height && line[own_scanline] > 4) return SPNG_EFILTER;
  const uint8_t* prev = r == 0 ? zero_row : line + 1 - own_scanline;
  int error = defilter_scanline(prev, line + 1, own_scanline, own_bpp, line[0]);
  if (error) return error;
  if (own_color == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA) memcpy(out, line + 1, own_scanline - 1);
  else rgb8_to_rgba8_simd(line + 1, out, (uint32_t)out_width);
  return 0;
}

/*
 * Start decoding the PNG at data[0, size), a buffer from imgpipe_alloc that this takes over (freed by
 * imgpipe_release(), or here on failure): 0 on success, else libspng's error code (and nothing is
 * left allocated), or RETRY_WITH_ZLIB (see inflate_whole; the caller copies the PNG in again). With
 * `fast` set the image data goes through libdeflate where that pays. An Adam7 image, and any image when `ring_rows` is 0, is decoded whole
 * here; otherwise imgpipe_png_step() decodes its rows.
 */
EXPORT int imgpipe_png_begin(uint8_t* data, size_t size, uint32_t ring_rows, int fast) {
  imgpipe_release();
  png_buf = data;
  struct spng_ihdr ihdr;
  size_t image_size;
  int error = open_ctx(data, size, &ihdr);
  if (!error && fast) {
    const uint8_t* png = data;
    size_t png_size = size;
    int own = unfilter_here(&ihdr);
    error = inflate_whole(size, &ihdr, own, &png, &png_size);
    if (error == WHOLE_STORED) {
      whole = WHOLE_STORED;
      spng_ctx_free(ctx);
      ctx = NULL;
      error = open_ctx(png, png_size, &ihdr);
    } else if (error == WHOLE_OWN) {
      whole = WHOLE_OWN;
      error = 0;
    }
  }
  if (whole == WHOLE_OWN) {
    /* What libspng would make of it (unfilter_here): RGBA8 rows, the first row's filter type checked. */
    own_bpp = ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ? 4 : 3;
    own_color = ihdr.color_type;
    image_size = (size_t)ihdr.width * 4 * ihdr.height;
    zero_row = calloc(own_scanline, 1);
    if (zero_row == NULL) error = SPNG_EMEM;
    else if (png_buf[0] > 4) error = SPNG_EFILTER;
  } else if (!error) {
    error = spng_decoded_image_size(ctx, SPNG_FMT_RGBA8, &image_size);
  }
  if (error) {
    imgpipe_release();
    return error;
  }
  out_width = (int)ihdr.width;
  out_height = (int)ihdr.height;
  size_t row_bytes = (size_t)ihdr.width * 4;
  ring = (ihdr.interlace_method != 0 || ring_rows >= ihdr.height) ? 0 : ring_rows;
  out_size = ring == 0 ? image_size : row_bytes * ring;
  out_ptr = malloc(out_size);
  if (out_ptr == NULL) {
    imgpipe_release();
    return SPNG_EMEM;
  }
  if (ring == 0) {
    if (whole == WHOLE_OWN) {
      for (uint32_t r = 0; r < ihdr.height && !error; r++) error = own_row(r, out_ptr + r * row_bytes);
    } else {
      error = spng_decode_image(ctx, out_ptr, out_size, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS);
    }
    if (error) {
      imgpipe_release();
      return error;
    }
    rows_out = ihdr.height;
    finished = 1;
    return 0;
  }
  if (whole != WHOLE_OWN) error = spng_decode_image(ctx, NULL, 0, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS | SPNG_DECODE_PROGRESSIVE);
  if (error) imgpipe_release();
  return error;
}

/*
 * Decode up to `rows` more rows into the ring (row r lands in slot r % ring); the caller takes them
 * before the next call. 0 on success (imgpipe_png_rows_out() says how many there are now), else
 * libspng's error code.
 */
EXPORT int imgpipe_png_step(uint32_t rows) {
  if (ctx == NULL && whole != WHOLE_OWN) return SPNG_EINTERNAL;
  size_t row_bytes = (size_t)out_width * 4;
  for (uint32_t i = 0; i < rows && !finished; i++) {
    uint8_t* out = out_ptr + (rows_out % ring) * row_bytes;
    int error = whole == WHOLE_OWN ? own_row(rows_out, out) : spng_decode_row(ctx, out, row_bytes);
    /* libspng says SPNG_EOI with the last row */
    if (error == SPNG_EOI || (whole == WHOLE_OWN && !error && rows_out + 1 == (uint32_t)out_height)) finished = 1;
    else if (error) return error;
    rows_out++;
  }
  return 0;
}

/* libspng's encoder writes into a buffer it grows; imgpipe_output() hands it over. */
static void take_encoded(spng_ctx* enc) {
  int error = 0;
  size_t size = 0;
  out_ptr = spng_get_png_buffer(enc, &size, &error);
  out_size = error ? 0 : size;
}

/*
 * Encode `width` x `height` RGBA pixels (which this call may rearrange in place) as an 8-bit PNG:
 * RGB when every pixel is opaque (as sharp writes an image without alpha), else RGBA. sharp's
 * defaults: zlib level 6, no row filtering (its adaptiveFiltering: false). Measured on 720 px
 * outputs, filtering (libspng's adaptive choice, or Sub for every row) made zlib 2.7-3.3x slower
 * for files 4% smaller (a graphic) to 34% smaller (a photo). 0 on success, else libspng's error code.
 */
EXPORT int imgpipe_png_encode(uint8_t* rgba, uint32_t width, uint32_t height) {
  imgpipe_release();
  size_t pixels = (size_t)width * height;
  int opaque = 1;
  for (size_t i = 3; i < pixels * 4; i += 4) {
    if (rgba[i] != 255) {
      opaque = 0;
      break;
    }
  }
  if (opaque) {
    for (size_t i = 0; i < pixels; i++) {
      rgba[i * 3] = rgba[i * 4];
      rgba[i * 3 + 1] = rgba[i * 4 + 1];
      rgba[i * 3 + 2] = rgba[i * 4 + 2];
    }
  }
  spng_ctx* enc = spng_ctx_new(SPNG_CTX_ENCODER);
  if (enc == NULL) return SPNG_EMEM;
  struct spng_ihdr ihdr = {
    .width = width, .height = height, .bit_depth = 8,
    .color_type = opaque ? SPNG_COLOR_TYPE_TRUECOLOR : SPNG_COLOR_TYPE_TRUECOLOR_ALPHA,
  };
  int error = spng_set_option(enc, SPNG_ENCODE_TO_BUFFER, 1);
  if (!error) error = spng_set_option(enc, SPNG_IMG_COMPRESSION_LEVEL, 6);
  if (!error) error = spng_set_option(enc, SPNG_FILTER_CHOICE, SPNG_DISABLE_FILTERING);
  if (!error) error = spng_set_ihdr(enc, &ihdr);
  if (!error) error = spng_encode_image(enc, rgba, pixels * (opaque ? 3 : 4), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  if (!error) take_encoded(enc);
  spng_ctx_free(enc);
  if (!error && out_ptr == NULL) error = SPNG_EMEM;
  if (!error) {
    out_width = (int)width;
    out_height = (int)height;
  }
  return error;
}
