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
 * The chunk policy (which critical CRCs refuse a file, which ancillary problems drop a chunk) is
 * applied before this sees the file (src/codecs/png-chunks.ts), so libspng is asked not to check CRCs
 * again. Plain C, no JavaScript glue; built by scripts/build-libspng.mjs.
 */
#include <stdint.h>
#include <stdlib.h>
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

EXPORT void imgpipe_release(void) {
  spng_ctx_free(ctx);
  ctx = NULL;
  free(out_ptr);
  out_ptr = NULL;
  out_size = 0;
  out_width = out_height = 0;
  ring = rows_out = 0;
  finished = 0;
}

EXPORT void* imgpipe_alloc(size_t bytes) { return malloc(bytes); }
EXPORT void imgpipe_free(void* p) { free(p); }
EXPORT uint8_t* imgpipe_output(void) { return out_ptr; }
EXPORT size_t imgpipe_output_size(void) { return out_size; }
EXPORT int imgpipe_output_width(void) { return out_width; }
EXPORT int imgpipe_output_height(void) { return out_height; }

/* Rows in out_ptr's ring (the image's height when it holds the whole image). */
EXPORT uint32_t imgpipe_png_ring(void) { return ring == 0 ? (uint32_t)out_height : ring; }
/* Rows decoded so far. */
EXPORT uint32_t imgpipe_png_rows_out(void) { return rows_out; }
/* libspng's message for an error code (a static string). */
EXPORT const char* imgpipe_png_message(int error) { return spng_strerror(error); }

/*
 * Start decoding the PNG at data[0, size): 0 on success, else libspng's error code (and nothing is
 * left allocated). `data` must stay in place until imgpipe_release(). An Adam7 image, and any image
 * when `ring_rows` is 0, is decoded whole here; otherwise imgpipe_png_step() decodes its rows.
 */
EXPORT int imgpipe_png_begin(const uint8_t* data, size_t size, uint32_t ring_rows) {
  imgpipe_release();
  ctx = spng_ctx_new(0);
  if (ctx == NULL) return SPNG_EMEM;
  struct spng_ihdr ihdr;
  size_t image_size;
  int error = spng_set_crc_action(ctx, SPNG_CRC_USE, SPNG_CRC_USE);
  if (!error) error = spng_set_png_buffer(ctx, data, size);
  /* The limits were checked against the header before this call: libspng's own are its maxima. */
  if (!error) error = spng_set_image_limits(ctx, 0x7fffffff, 0x7fffffff);
  if (!error) error = spng_set_chunk_limits(ctx, 0x7fffffff, 0x7fffffff);
  if (!error) error = spng_get_ihdr(ctx, &ihdr);
  if (!error) error = spng_decoded_image_size(ctx, SPNG_FMT_RGBA8, &image_size);
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
    error = spng_decode_image(ctx, out_ptr, out_size, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS);
    if (error) {
      imgpipe_release();
      return error;
    }
    rows_out = ihdr.height;
    finished = 1;
    return 0;
  }
  error = spng_decode_image(ctx, NULL, 0, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS | SPNG_DECODE_PROGRESSIVE);
  if (error) imgpipe_release();
  return error;
}

/*
 * Decode up to `rows` more rows into the ring (row r lands in slot r % ring); the caller takes them
 * before the next call. 0 on success (imgpipe_png_rows_out() says how many there are now), else
 * libspng's error code.
 */
EXPORT int imgpipe_png_step(uint32_t rows) {
  if (ctx == NULL) return SPNG_EINTERNAL;
  size_t row_bytes = (size_t)out_width * 4;
  for (uint32_t i = 0; i < rows && !finished; i++) {
    int error = spng_decode_row(ctx, out_ptr + (rows_out % ring) * row_bytes, row_bytes);
    if (error == SPNG_EOI) finished = 1;
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
