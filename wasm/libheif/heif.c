/*
 * imgpipe's interface to libheif with libde265 (HEVC), built from Debian's sources by
 * scripts/build-libheif.mjs into its own module, the `imgpipe/heic` plug-in: both libraries are
 * LGPL, so they never enter the core bundle, and a user who replaces this module replaces them.
 *
 * One call decodes the primary image as libheif's own tools do (heif-convert): grid images
 * assembled, `clap`/`irot`/`imir` applied, the alpha auxiliary image attached, 10-bit images
 * reduced to 8 bits, then converted to interleaved 8-bit RGBA. The colour description (an ICC
 * profile or nclx values) is handed back untouched; the caller converts it to sRGB like any
 * other embedded profile. Thumbnails and depth maps are never decoded.
 *
 * Plain C, no JavaScript glue (src/codecs/heic.ts copies bytes in and out of linear memory).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "libheif/heif.h"

#define EXPORT __attribute__((used, visibility("default")))

/* The last call's output, owned here until the next call or imgpipe_release(). */
static uint8_t* out_ptr = NULL;
static size_t out_size = 0;
static int out_width = 0, out_height = 0, out_alpha = 0, out_bits = 0;
static uint8_t* icc_ptr = NULL;
static size_t icc_size = 0;
/* nclx: primaries, transfer, matrix, full range; -1 when the image has no nclx box. */
static int nclx[4] = {-1, -1, -1, -1};
/* libheif's message for the last failure (copied: libheif's may live in a freed context). */
static char message[256];
static int initialised = 0;

EXPORT void imgpipe_release(void) {
  free(out_ptr);
  free(icc_ptr);
  out_ptr = icc_ptr = NULL;
  out_size = icc_size = 0;
}

EXPORT void* imgpipe_alloc(size_t bytes) { return malloc(bytes); }
EXPORT void imgpipe_free(void* p) { free(p); }
EXPORT uint8_t* imgpipe_output(void) { return out_ptr; }
EXPORT size_t imgpipe_output_size(void) { return out_size; }
EXPORT int imgpipe_output_width(void) { return out_width; }
EXPORT int imgpipe_output_height(void) { return out_height; }
EXPORT int imgpipe_output_alpha(void) { return out_alpha; }
/* Bits per sample of the coded luma (8, 10, 12): what the image held before the 8-bit output. */
EXPORT int imgpipe_output_bits(void) { return out_bits; }
EXPORT uint8_t* imgpipe_icc(void) { return icc_ptr; }
EXPORT size_t imgpipe_icc_size(void) { return icc_size; }
EXPORT int imgpipe_nclx(int i) { return i >= 0 && i < 4 ? nclx[i] : -1; }
EXPORT const char* imgpipe_message(void) { return message; }

static int fail(struct heif_error err) {
  strncpy(message, err.message ? err.message : "", sizeof message - 1);
  message[sizeof message - 1] = 0;
  /* The code and sub-code together, so the caller can tell damage from an unsupported feature. */
  return err.code * 65536 + err.subcode;
}

/*
 * Decode the primary image of a HEIF file to RGBA. `max_side` bounds every image libheif will
 * allocate (the caller has already checked the declared sizes; this is the second line). Returns 0
 * on success, else heif_error_code * 65536 + heif_suberror_code (imgpipe_message() has the text).
 */
EXPORT int imgpipe_heif_decode(const uint8_t* data, size_t size, int max_side) {
  imgpipe_release();
  message[0] = 0;
  nclx[0] = nclx[1] = nclx[2] = nclx[3] = -1;
  if (!initialised) {
    struct heif_error err = heif_init(NULL);
    if (err.code) return fail(err);
    initialised = 1;
  }
  struct heif_context* ctx = heif_context_alloc();
  struct heif_image_handle* handle = NULL;
  struct heif_image* img = NULL;
  struct heif_decoding_options* options = NULL;
  struct heif_error err = {heif_error_Ok, heif_suberror_Unspecified, ""};
  int status = 0;
  if (!ctx) return heif_error_Memory_allocation_error * 65536;
  if (max_side > 0) heif_context_set_maximum_image_size_limit(ctx, max_side);

  err = heif_context_read_from_memory_without_copy(ctx, data, size, NULL);
  if (!err.code) err = heif_context_get_primary_image_handle(ctx, &handle);
  if (err.code) { status = fail(err); goto done; }

  out_alpha = heif_image_handle_has_alpha_channel(handle);
  out_bits = heif_image_handle_get_luma_bits_per_pixel(handle);
  icc_size = heif_image_handle_get_raw_color_profile_size(handle);
  if (icc_size) {
    icc_ptr = malloc(icc_size);
    if (!icc_ptr) { status = heif_error_Memory_allocation_error * 65536; goto done; }
    err = heif_image_handle_get_raw_color_profile(handle, icc_ptr);
    if (err.code) { status = fail(err); goto done; }
  }
  struct heif_color_profile_nclx* profile = NULL;
  if (heif_image_handle_get_nclx_color_profile(handle, &profile).code == heif_error_Ok && profile) {
    nclx[0] = profile->color_primaries;
    nclx[1] = profile->transfer_characteristics;
    nclx[2] = profile->matrix_coefficients;
    nclx[3] = profile->full_range_flag;
    heif_nclx_color_profile_free(profile);
  }

  options = heif_decoding_options_alloc();
  if (!options) { status = heif_error_Memory_allocation_error * 65536; goto done; }
  options->convert_hdr_to_8bit = 1;
  /* Damage (a truncated file, a grid with missing tiles) is an error, not a best-effort picture:
   * imgpipe refuses a truncated JPEG the same way. */
  options->strict_decoding = 1;
  err = heif_decode_image(handle, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGBA, options);
  if (err.code) { status = fail(err); goto done; }

  int stride = 0;
  const uint8_t* plane = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
  int width = heif_image_get_width(img, heif_channel_interleaved);
  int height = heif_image_get_height(img, heif_channel_interleaved);
  if (!plane || width <= 0 || height <= 0 || heif_image_get_bits_per_pixel_range(img, heif_channel_interleaved) != 8) {
    strcpy(message, "libheif returned no 8-bit RGBA plane");
    status = heif_error_Decoder_plugin_error * 65536;
    goto done;
  }
  out_size = (size_t)width * height * 4;
  out_ptr = malloc(out_size);
  if (!out_ptr) { out_size = 0; status = heif_error_Memory_allocation_error * 65536; goto done; }
  for (int y = 0; y < height; y++) memcpy(out_ptr + (size_t)y * width * 4, plane + (size_t)y * stride, (size_t)width * 4);
  out_width = width;
  out_height = height;

done:
  heif_decoding_options_free(options);
  heif_image_release(img);
  heif_image_handle_release(handle);
  heif_context_free(ctx);
  if (status) imgpipe_release();
  return status;
}
