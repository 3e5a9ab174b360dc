/**
 * imgpipe's public surface. Everything here is runtime-neutral; the runtime entries in `wasm/`
 * re-export it and register how that runtime obtains the WASM modules.
 */
export { ImgpipeError, isImgpipeError, type ErrorCode } from './errors.js';
export { createImage, asImage, hasAlpha, type RGBAImage } from './image.js';
export { FORMATS, sniffFormat, type FormatId, type OutputFormat, type FormatInfo } from './formats.js';
export { readHeader, type ImageHeader } from './header.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { decode, inspect, type DecodeOptions, type DecodedImage } from './decode.js';
export { encode, flatten, type EncodeOptions } from './encode.js';
export { resize, resizeTarget, type ResizeOptions } from './ops/resize.js';
export { orient } from './ops/orient.js';
export {
  processUpload, runRecipe, outputKey, validateRecipe, DEFAULT_RECIPE,
  type Recipe, type RecipeSize, type RecipeOutput, type RecipeWatermark, type Variant, type RecipeResult, type ProcessUploadOptions,
} from './recipe.js';
export { init, setWasmProvider, WASM_MODULES, type InitOptions, type WasmName, type WasmSource, type WasmProvider } from './wasm.js';
