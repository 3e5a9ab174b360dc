/*
 * imgpipe's interface to libjpeg-turbo's decompressor: the fallback for JPEG coding processes
 * imgpipe's own decoder (wasm/jpegdec) does not implement, arithmetic-coded sequential and
 * progressive files (SOF9, SOF10) above all. Only the decoder is compiled (no encoder, no TurboJPEG
 * API) and without SIMD, so the module stays small: it is loaded only when such a file arrives.
 *
 * The interface is plain C with no JavaScript glue (src/codecs/jpeg-libjpeg.ts): the caller copies
 * the file in through imgpipe_alloc, calls imgpipe_jpeg_decode, and copies the RGBA pixels out.
 * libjpeg's fatal errors must not return to the library; with no setjmp/longjmp in a standalone
 * module, error_exit records the message and traps, and the caller throws the instance away (its
 * state after a fatal error is of no use anyway). Warnings (damage libjpeg decodes through) are
 * recorded, one line each, for the caller's failOn policy. Built by scripts/build-libjpeg.mjs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jpeglib.h"
#include "jerror.h"

#define EXPORT __attribute__((used, visibility("default")))

/* The last call's output, owned here until the next call or imgpipe_release(). */
static uint8_t* out_ptr = NULL;
static size_t out_size = 0;
static int out_width = 0, out_height = 0;

/* libjpeg's messages of the last call: warnings, then a fatal error's, one per line. */
static char messages[2048];
static size_t messages_len = 0;
static int warnings = 0;

EXPORT void imgpipe_release(void) {
  free(out_ptr);
  out_ptr = NULL;
  out_size = 0;
}

EXPORT void* imgpipe_alloc(size_t bytes) { return malloc(bytes); }
EXPORT void imgpipe_free(void* p) { free(p); }
EXPORT uint8_t* imgpipe_output(void) { return out_ptr; }
EXPORT size_t imgpipe_output_size(void) { return out_size; }
EXPORT int imgpipe_output_width(void) { return out_width; }
EXPORT int imgpipe_output_height(void) { return out_height; }
EXPORT const char* imgpipe_jpeg_messages(void) { return messages; }
EXPORT int imgpipe_jpeg_warnings(void) { return warnings; }

static void record(j_common_ptr cinfo) {
  char line[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, line);
  size_t n = strlen(line);
  /* Keep whole lines only: the first messages are the ones that say what went wrong. */
  if (messages_len + n + 2 > sizeof(messages)) return;
  memcpy(messages + messages_len, line, n);
  messages_len += n;
  messages[messages_len++] = '\n';
  messages[messages_len] = 0;
}

static void error_exit(j_common_ptr cinfo) {
  record(cinfo);
  __builtin_trap();
}

/* Warnings (msg_level -1) are recorded and counted; trace messages are dropped. */
static void emit_message(j_common_ptr cinfo, int msg_level) {
  if (msg_level >= 0) return;
  warnings++;
  record(cinfo);
}

/*
 * Decode `data` to RGBA, reduced by `denom` (1, 2, 4 or 8: libjpeg's scale_denom, DCT-domain
 * shrink-on-load). Returns 0 on success (the pixels in imgpipe_output), 1 when the file holds
 * 4-component (CMYK/YCCK) data: the pixels are then CMYK, 4 bytes each (YCCK converted by libjpeg),
 * the values as stored (an Adobe file's inverted), for the file's ICC profile to bring to sRGB.
 * Warnings are in imgpipe_jpeg_warnings/imgpipe_jpeg_messages; a fatal error traps with its message
 * recorded.
 */
EXPORT int imgpipe_jpeg_decode(const uint8_t* data, size_t size, int denom) {
  imgpipe_release();
  messages_len = 0;
  messages[0] = 0;
  warnings = 0;
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jerr.error_exit = error_exit;
  jerr.emit_message = emit_message;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  int cmyk = cinfo.num_components == 4;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  jpeg_start_decompress(&cinfo);
  size_t row = (size_t)cinfo.output_width * 4;
  out_size = row * cinfo.output_height;
  out_ptr = malloc(out_size);
  if (!out_ptr) ERREXIT1(&cinfo, JERR_OUT_OF_MEMORY, 0);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[1] = { out_ptr + row * cinfo.output_scanline };
    jpeg_read_scanlines(&cinfo, rows, 1);
  }
  out_width = cinfo.output_width;
  out_height = cinfo.output_height;
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return cmyk;
}
