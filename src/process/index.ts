/** The x-oss-process engine's public surface (re-exported by `src/index.ts`). */
export { transform, outputQuality, type TransformOptions, type TransformResult, type TransformFormat } from './transform.js';
export { parseProcess, type ParseOptions } from './parse.js';
export { ACTIONS, ACTION_NAMES, type ActionName, type ActionDef, type Operation, type OperationOf, type ParamsOf, type Support } from './actions.js';
export { createStyleTable, lookupStyle, splitStyleDelimiter, checkStyleName, STYLE_DELIMITERS, MAX_STYLES, type StyleTable, type StyleDelimiter } from './styles.js';
export { encodeBase64Url, decodeBase64Url, type ParamSpec, type ParamDef } from './params.js';
export { ossCodeOf, type OssCode, type ProcessErrorDetails } from './oss-error.js';
export { DEFAULT_OUTPUT_LIMITS, MAX_OUTPUT_SIDE, resolveOutputLimits, type OutputLimits } from './limits.js';
export { planResize, type ResizePlan } from './resize-plan.js';
export { MAX_IMAGE_WATERMARKS, type ObjectLoader, type FontResolver } from './watermark-step.js';
export { type BlindWatermarkProcessOptions } from './blindwatermark-step.js';
