/**
 * imgpipe's public surface. Everything here is runtime-neutral; the runtime entries in `entries/`
 * re-export it and register how that runtime obtains the WASM modules.
 */
export { ImgpipeError, isImgpipeError, describeValue, type ErrorCode } from './errors.js';
export { createImage, asImage, hasAlpha, type RGBAImage } from './image.js';
export {
  FORMATS, formatRows, writableRows, sniffFormat, readHeader, registerFormat,
  type FormatId, type FormatIds, type OutputFormat, type FormatInfo, type FormatDecoder, type FormatEncoder,
  type FormatEncodeOptions, type DecodeRequest, type DecodedPixels,
} from './formats.js';
export type { ImageHeader } from './header.js';
export { DEFAULT_LIMITS, resolveLimits, checkByteLimit, byteLimitError, type Limits } from './limits.js';
export { FAIL_ON_LEVELS, type FailOn } from './fail-on.js';
export { decode, inspect, type DecodeOptions, type DecodedImage } from './decode.js';
export type { RowHelper, RowTask } from './decode-resized.js';
export { encode, flatten, type EncodeOptions, type Encoder } from './encode.js';
export { resize, resizeTarget, type ResizeOptions } from './ops/resize.js';
export { orient } from './ops/orient.js';
export { watermark, validateWatermark, type WatermarkOptions, type Gravity } from './ops/watermark.js';
export {
  processUpload, runRecipe, outputKey, validateRecipe, DEFAULT_RECIPE,
  type Recipe, type RecipeSize, type RecipeOutput, type RecipeWatermark, type Variant, type RecipeResult, type Placeholder, type ProcessUploadOptions,
  type RecipeBlindWatermark, type BlindWatermarkRecord,
} from './recipe.js';
export { createLimiter, type Limiter, type LimiterRunOptions } from './concurrency.js';
export { registerPlugin, hasPlugin, type DecoderPlugin, type PluginEncodeOptions } from './plugins.js';
export { init, setWasmProvider, WASM_MODULES, type InitOptions, type WasmName, type WasmSource, type WasmProvider } from './wasm/modules.js';
export * from './process/index.js';
export { crop, anchoredRect } from './ops/crop.js';
export { indexCrop } from './ops/indexcrop.js';
export { circle } from './ops/circle.js';
export { roundedCorners } from './ops/rounded-corners.js';
export { rotate, rotatedSize } from './ops/rotate.js';
export { flip } from './ops/flip.js';
export { blur } from './ops/blur.js';
export { bright } from './ops/bright.js';
export { contrast } from './ops/contrast.js';
export { sharpen } from './ops/sharpen.js';
export { extend } from './ops/extend.js';
export { averageHue } from './ops/average-hue.js';
export { thumbhash, dominantColor } from './ops/thumbhash.js';
export { info } from './ops/info.js';
export {
  embedBlindWatermark, extractBlindWatermark, blindWatermarkId, DEFAULT_BLIND_WATERMARK_KEY, BLIND_WATERMARK_CAPACITY,
  type BlindWatermarkOptions, type BlindWatermarkedImage, type BlindWatermarkResult, type ExtractBlindWatermarkOptions, type BlindWatermarkStrength,
} from './ops/blind-watermark.js';
