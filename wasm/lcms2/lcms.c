/*
 * imgpipe's interface to Little CMS: brings pixels whose embedded ICC profile imgpipe's own
 * matrix/TRC code (src/color/icc.ts) can't use, LUT-based (A2B) RGB profiles and CMYK profiles, to
 * sRGB, as sharp/libvips do: a device-to-device transform from the embedded profile to lcms's
 * built-in sRGB, 8 bits in and out, perceptual intent, no black point compensation (libvips's
 * default; sharp asks for perceptual).
 *
 * The interface is plain C with no JavaScript glue (src/color/lcms.ts): the caller copies the
 * profile in through imgpipe_alloc and calls imgpipe_lcms_prepare, then copies pixels in (4 bytes
 * each: RGBA, or CMYK) and calls imgpipe_lcms_apply, which turns them into RGBA in place. One
 * transform is kept: a caller converts one image at a time. Built by scripts/build-lcms2.mjs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lcms2.h"

#define EXPORT __attribute__((used, visibility("default")))

/* No pixel output of its own: the buffer protocol's output side is unused, kept for src/wasm/instance.ts. */
EXPORT void imgpipe_release(void) {}
EXPORT void* imgpipe_alloc(size_t bytes) { return malloc(bytes); }
EXPORT void imgpipe_free(void* p) { free(p); }
EXPORT uint8_t* imgpipe_output(void) { return NULL; }
EXPORT size_t imgpipe_output_size(void) { return 0; }
EXPORT int imgpipe_output_width(void) { return 0; }
EXPORT int imgpipe_output_height(void) { return 0; }

/* lcms's last error, for the caller's message. */
static char message[256];

static void log_error(cmsContext id, cmsUInt32Number code, const char* text) {
  (void)id;
  (void)code;
  strncpy(message, text, sizeof(message) - 1);
  message[sizeof(message) - 1] = 0;
}

EXPORT const char* imgpipe_lcms_message(void) { return message; }

static cmsHTRANSFORM transform = NULL;
static int cmyk = 0;

/*
 * Make the transform for the profile `icc` (`size` bytes). `inverted` is for CMYK from an Adobe
 * JPEG whose values are stored inverted (0 = full ink). Returns 1 for an RGB profile (pixels RGBA,
 * alpha kept), 2 for a CMYK profile (pixels CMYK), 0 when the profile can't be used (unreadable, a
 * colour space other than RGB or CMYK, no transform to sRGB): imgpipe_lcms_message says why.
 */
EXPORT int imgpipe_lcms_prepare(const uint8_t* icc, size_t size, int inverted) {
  message[0] = 0;
  cmsSetLogErrorHandler(log_error);
  if (transform) cmsDeleteTransform(transform);
  transform = NULL;
  cmsHPROFILE in = cmsOpenProfileFromMem(icc, (cmsUInt32Number)size);
  if (!in) {
    if (!message[0]) strcpy(message, "the profile could not be read");
    return 0;
  }
  cmsColorSpaceSignature space = cmsGetColorSpace(in);
  cmsUInt32Number format;
  if (space == cmsSigRgbData) format = TYPE_RGBA_8;
  else if (space == cmsSigCmykData) format = inverted ? TYPE_CMYK_8_REV : TYPE_CMYK_8;
  else {
    cmsCloseProfile(in);
    strcpy(message, "the profile's colour space is neither RGB nor CMYK");
    return 0;
  }
  cmsHPROFILE out = cmsCreate_sRGBProfile();
  /* No 1-pixel cache (as libvips): the transform is applied to whole rows, and it saves nothing there. */
  transform = out ? cmsCreateTransform(in, format, out, TYPE_RGBA_8, INTENT_PERCEPTUAL, cmsFLAGS_NOCACHE) : NULL;
  cmsCloseProfile(in);
  if (out) cmsCloseProfile(out);
  if (!transform) {
    if (!message[0]) strcpy(message, "no transform from the profile to sRGB");
    return 0;
  }
  cmyk = space == cmsSigCmykData;
  return cmyk ? 2 : 1;
}

/*
 * Transform `count` pixels at `pixels` to sRGB RGBA in place (lcms reads each pixel's 4 bytes
 * before writing its output there). RGB keeps its alpha (lcms leaves the extra byte alone); CMYK
 * has none, so it becomes opaque.
 */
EXPORT void imgpipe_lcms_apply(uint8_t* pixels, size_t count) {
  if (!transform) return;
  cmsDoTransform(transform, pixels, pixels, (cmsUInt32Number)count);
  if (cmyk) for (size_t i = 0; i < count; i++) pixels[i * 4 + 3] = 255;
}
