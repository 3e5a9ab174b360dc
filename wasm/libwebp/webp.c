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
#include "webp/decode.h"
#include "webp/encode.h"

#define EXPORT __attribute__((used, visibility("default")))

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
 * Encode RGBA pixels with the settings sharp (libvips webpsave) uses by default: libwebp's default
 * preset at `quality`, effort (`method`) as given. Returns 0 on success, else libwebp's
 * WebPEncodingError code (1 and 2 are out of memory).
 */
EXPORT int imgpipe_webp_encode(const uint8_t* rgba, int width, int height, float quality, int method, int lossless) {
  imgpipe_release();
  WebPConfig config;
  WebPPicture picture;
  WebPMemoryWriter writer;
  if (!WebPConfigInit(&config) || !WebPPictureInit(&picture)) return VP8_ENC_ERROR_INVALID_CONFIGURATION;
  config.quality = quality;
  config.method = method;
  config.lossless = lossless;
  if (!WebPValidateConfig(&config)) return VP8_ENC_ERROR_INVALID_CONFIGURATION;
  picture.width = width;
  picture.height = height;
  /* Lossless works on ARGB; lossy on YUV, converted from RGBA as sharp's libwebp does. */
  picture.use_argb = lossless;
  WebPMemoryWriterInit(&writer);
  picture.writer = WebPMemoryWrite;
  picture.custom_ptr = &writer;
  int ok = WebPPictureImportRGBA(&picture, rgba, width * 4) && WebPEncode(&config, &picture);
  int error = ok ? VP8_ENC_OK : (picture.error_code != VP8_ENC_OK ? picture.error_code : VP8_ENC_ERROR_OUT_OF_MEMORY);
  WebPPictureFree(&picture);
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
 * Decode a still WebP file to non-premultiplied RGBA, at `scaled_width` x `scaled_height` when both
 * are positive (libwebp's own rescaler, applied as rows are decoded: shrink-on-load, as libvips'
 * webpload does it), else at full size. Returns 0 on success, else libwebp's VP8StatusCode (1 is out
 * of memory, 3 is a damaged bitstream, 7 is truncated data).
 */
EXPORT int imgpipe_webp_decode(const uint8_t* data, size_t size, int scaled_width, int scaled_height) {
  imgpipe_release();
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return VP8_STATUS_INVALID_PARAM;
  VP8StatusCode status = WebPGetFeatures(data, size, &config.input);
  if (status != VP8_STATUS_OK) return status;
  config.output.colorspace = MODE_RGBA;
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
