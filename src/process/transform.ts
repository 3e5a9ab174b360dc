/**
 * Run an x-oss-process string on image bytes: parse and validate the whole string first (nothing is
 * decoded for a bad string), check the source against its limits from the header, decode once, run
 * the operations left to right (each checks the size it would produce before allocating), encode.
 */
import { decode, decodeRegion, inspect, regionDecodePixels, toBytes } from '../decode.js';
import { decodeResized } from '../decode-resized.js';
import { recycleResized } from '../kernels/lanczos.js';
import { encode } from '../encode.js';
import { FORMATS, sourceOutputFormat, type OutputFormat } from '../formats.js';
import { uprightSize, type ImageHeader } from '../header.js';
import type { RGBAImage } from '../image.js';
import type { Limits } from '../limits.js';
import type { Rect } from '../ops/crop.js';
import { throwIfAborted } from '../pipeline.js';
import { info } from '../ops/info.js';
import { ACTIONS, reportedOrientation, type ActionDef, type Operation } from './actions.js';
import { checkChainCost, CostBudget, stepCost } from './budget.js';
import { resolveOutputLimits, type OutputLimits } from './limits.js';
import { processError } from './oss-error.js';
import { parseProcess } from './parse.js';
import { planResize } from './resize-plan.js';
import { runResize, type StepContext, type StepState } from './step.js';
import type { StyleTable } from './styles.js';
import type { BlindWatermarkProcessOptions } from './blindwatermark-step.js';
import { MAX_IMAGE_WATERMARKS, type FontResolver, type ObjectLoader } from './watermark-step.js';

export interface TransformOptions {
  /** Source limits (bytes, side, pixels), checked from the header before decoding. */
  readonly limits?: Partial<Limits>;
  /** Output limits (side, pixels, number of actions), checked before each step allocates. */
  readonly outputLimits?: Partial<OutputLimits>;
  /** Styles `style/<name>` may refer to. */
  readonly styles?: StyleTable;
  /** Accept imgpipe's own actions that OSS lacks (`flip`). */
  readonly extensions?: boolean;
  /** Checked between steps. */
  readonly signal?: AbortSignal;
  /** Reads watermark images (`watermark,image_...`): objects of the same bucket. */
  readonly loadObject?: ObjectLoader;
  /** Font bytes for watermark font names (`type_`); without it the embedded font is used. */
  readonly fonts?: FontResolver;
  /** Key and ID registry for `blindwatermark` / `deblindwatermark`. */
  readonly blindWatermark?: BlindWatermarkProcessOptions;
}

export type TransformFormat = OutputFormat | 'json';

export interface TransformResult {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  /** Size of the produced image (for `info`/`average-hue`: of the image described). */
  readonly width: number;
  readonly height: number;
  readonly format: TransformFormat;
}

export async function transform(
  input: Uint8Array | ArrayBuffer,
  process: string | readonly Operation[],
  options: TransformOptions = {},
): Promise<TransformResult> {
  const outputLimits = resolveOutputLimits(options.outputLimits);
  const ops = typeof process === 'string'
    ? parseProcess(process, { styles: options.styles, extensions: options.extensions, maxActions: outputLimits.maxActions })
    : process;
  const imageWatermarks = ops.filter((op) => op.action === 'watermark' && op.params.image !== undefined).length;
  if (imageWatermarks > MAX_IMAGE_WATERMARKS) {
    throw processError('INVALID_ARGUMENT', 'WatermarkError', `Expected at most ${MAX_IMAGE_WATERMARKS} image watermarks but received ${imageWatermarks}`, { action: 'watermark', param: 'image' });
  }
  const bytes = toBytes(input);
  const header = inspect(bytes, options.limits);
  throwIfAborted(options.signal);

  const upright = uprightSize(header);
  // `info` alone needs no pixels: answer from the header.
  if (ops.length === 1 && ops[0].action === 'info') {
    return json(info({ fileSize: bytes.byteLength, format: header.format, ...upright, orientation: reportedOrientation(header.orientation) }), upright);
  }

  // An explicit auto-orient action decides where (and whether) the EXIF orientation is applied.
  const explicitOrient = ops.some((op) => op.action === 'auto-orient');
  // A leading resize knows its target from the header alone, so a JPEG can be decoded already
  // reduced in the DCT domain (shrink-on-load). That resize is then planned from the source's size,
  // so percentages and limits mean the same as without the shortcut. Only for a leading resize:
  // any earlier step (crop, rotate, an explicit auto-orient...) needs the full-size pixels.
  const first = ops[0];
  const leadingPlan = first?.action === 'resize' && !explicitOrient ? planResize(upright.width, upright.height, first.params) : undefined;
  const shrinkTo = leadingPlan?.scale && leadingPlan.scale.width < upright.width && leadingPlan.scale.height < upright.height ? leadingPlan.scale : undefined;
  // A leading resize that scales takes the pixels straight from the file: a JPEG's rows go from the
  // decoder to the resize kernel as they come out (decodeResized), never held at full size.
  const leading = first?.action === 'resize' && leadingPlan?.scale ? first : undefined;
  // A leading crop or indexcrop (in upright coordinates, so not after an explicit auto-orient) is
  // done by the decoder: a JPEG is decoded down to the rectangle's last row and only its columns kept.
  const region = first && !leading && !explicitOrient ? (ACTIONS[first.action] as ActionDef).region?.(first.params as never, upright) : undefined;
  const cropped = region && (region.width < upright.width || region.height < upright.height) ? region : undefined;
  // The whole chain is priced from the header before anything is decoded, and each step is charged
  // again at its real size before it runs.
  const decodePixels = cropped ? regionDecodePixels(header, cropped) : upright.width * upright.height;
  checkChainCost(ops, upright, decodePixels, outputLimits.maxCost);
  const budget = new CostBudget(outputLimits.maxCost);
  budget.charge('decode', decodePixels, upright);
  if (leading) budget.charge('resize', stepCost(leading, upright).cost, upright);
  if (cropped) budget.charge(first.action, stepCost(first, upright).cost, upright);
  const state: StepState = {
    image: leading
      ? await runResize(leading.params.color, outputLimits, leadingPlan!, (target) => decodeResized(bytes, header, target, { shrinkTo }))
      : cropped
        ? await decodeCropped(bytes, header, cropped, options.limits, budget, decodePixels)
        : await decode(bytes, { limits: options.limits, autoOrient: !explicitOrient, shrinkTo }),
    // A source imgpipe cannot write (GIF, HEIC) is written as its row says unless a format is asked for.
    format: sourceOutputFormat(header.format),
    progressive: false,
  };
  const ctx: StepContext = {
    state, header, sourceBytes: bytes.byteLength, limits: outputLimits, blindWatermark: options.blindWatermark,
    watermark: {
      loadObject: options.loadObject,
      fonts: options.fonts,
      limits: options.limits,
      parse: (p) => parseProcess(p),
      preprocess: async (logo, p) => (await transform(logo, p, { limits: options.limits, outputLimits: options.outputLimits })).bytes,
    },
  };

  for (const [i, op] of ops.entries()) {
    throwIfAborted(options.signal);
    if (i === 0 && (leading || cropped)) continue;
    budget.charge(op.action, stepCost(op, state.image).cost, state.image);
    const answer = await (ACTIONS[op.action] as ActionDef).apply(ctx, op.params as never);
    if (answer) return json(answer.json, state.image);
  }
  throwIfAborted(options.signal);

  const quality = state.blindQuality !== undefined && state.format === 'jpeg' ? state.blindQuality : outputQuality(state, header.jpegQuality);
  const out = await encode(state.image, state.format, { quality, progressive: state.progressive && state.format === 'jpeg' });
  // Encoded, the pixels are dropped: a server's next request of the same size resizes into them.
  recycleResized(state.image);
  return Object.freeze({ bytes: out, contentType: FORMATS[state.format].mime, width: state.image.width, height: state.image.height, format: state.format });
}

/** Crop-on-load; a decoder that had to read the whole image after all is charged for the rest. */
async function decodeCropped(bytes: Uint8Array, header: ImageHeader, rect: Rect, limits: Partial<Limits> | undefined, budget: CostBudget, charged: number): Promise<RGBAImage> {
  const { image, decodedPixels } = await decodeRegion(bytes, header, rect, { limits });
  if (decodedPixels > charged) budget.charge('decode', decodedPixels - charged, uprightSize(header));
  return image;
}

/**
 * OSS's quality rules. q is relative to the source JPEG's quality (80 with q_90 gives 72) and acts
 * like Q when there is no JPEG source quality or the output is WebP; Q is absolute but never above
 * the source quality; Q wins over q. Without a quality action a JPEG source keeps its own quality.
 */
export function outputQuality(state: Pick<StepState, 'format' | 'q' | 'Q'>, sourceQuality: number | undefined): number | undefined {
  if (state.format === 'png') return undefined;
  const cap = (v: number) => Math.max(1, Math.min(100, sourceQuality !== undefined ? Math.min(v, sourceQuality) : v));
  if (state.Q !== undefined) return cap(state.Q);
  if (state.q !== undefined) {
    if (state.format === 'jpeg' && sourceQuality !== undefined) return Math.max(1, Math.round((sourceQuality * state.q) / 100));
    return cap(state.q);
  }
  return state.format === 'jpeg' ? sourceQuality : undefined;
}

function json(value: unknown, size: { width: number; height: number }): TransformResult {
  return Object.freeze({
    bytes: new TextEncoder().encode(JSON.stringify(value)),
    contentType: 'application/json',
    width: size.width,
    height: size.height,
    format: 'json' as const,
  });
}
