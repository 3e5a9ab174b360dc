/**
 * Run an x-oss-process string on image bytes: parse and validate the whole string first (nothing is
 * decoded for a bad string), check the source against its limits from the header, decode once, run
 * the operations left to right (each checks the size it would produce before allocating), encode.
 */
import { describeValue } from '../errors.js';
import { decode, decodeResized, inspect, toBytes } from '../decode.js';
import { encode } from '../encode.js';
import { FORMATS, type FormatId, type OutputFormat } from '../formats.js';
import { uprightSize, type ImageHeader } from '../header.js';
import type { RGBAImage } from '../image.js';
import type { Limits } from '../limits.js';
import { throwIfAborted } from '../pipeline.js';
import { averageHue } from '../ops/average-hue.js';
import { runBlindWatermark, readBlindWatermark, type BlindWatermarkProcessOptions } from './blindwatermark-step.js';
import { blur } from '../ops/blur.js';
import { bright } from '../ops/bright.js';
import { circle } from '../ops/circle.js';
import { contrast } from '../ops/contrast.js';
import { anchoredRect, crop } from '../ops/crop.js';
import { extend } from '../ops/extend.js';
import { flip } from '../ops/flip.js';
import { indexCrop } from '../ops/indexcrop.js';
import { info } from '../ops/info.js';
import { orient } from '../ops/orient.js';
import { resize } from '../ops/resize.js';
import { rotate, rotatedSize } from '../ops/rotate.js';
import { roundedCorners } from '../ops/rounded-corners.js';
import { sharpen } from '../ops/sharpen.js';
import type { Operation, OperationOf } from './actions.js';
import { blurKernel, checkChainCost, CostBudget, stepCost } from './budget.js';
import { checkOutputSize, resolveOutputLimits, type OutputLimits } from './limits.js';
import { processError } from './oss-error.js';
import { parseProcess } from './parse.js';
import { planResize, type ResizePlan } from './resize-plan.js';
import type { StyleTable } from './styles.js';
import { MAX_IMAGE_WATERMARKS, runWatermark, type FontResolver, type ObjectLoader } from './watermark-step.js';

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

interface State {
  image: RGBAImage;
  format: OutputFormat;
  gifRequested: boolean;
  q?: number;
  Q?: number;
  progressive: boolean;
  /** blindwatermark's q: the JPEG quality the marked result is written at. */
  blindQuality?: number;
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
    return json(info({ fileSize: bytes.byteLength, format: header.format, ...upright, orientation: exifOrientation(header) }), upright);
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
  // The whole chain is priced from the header before anything is decoded, and each step is charged
  // again at its real size before it runs.
  checkChainCost(ops, upright, upright.width * upright.height, outputLimits.maxCost);
  const budget = new CostBudget(outputLimits.maxCost);
  budget.charge('decode', upright.width * upright.height, upright);
  if (leading) budget.charge('resize', stepCost(leading, upright).cost, upright);
  const state: State = {
    image: leading
      ? await runResize(leading, outputLimits, leadingPlan!, (target) => decodeResized(bytes, header, target, { shrinkTo }))
      : await decode(bytes, { limits: options.limits, autoOrient: !explicitOrient, shrinkTo }),
    format: sourceOutputFormat(header.format),
    gifRequested: false,
    progressive: false,
  };

  for (const [i, op] of ops.entries()) {
    throwIfAborted(options.signal);
    if (i === 0 && leading) continue;
    budget.charge(op.action, stepCost(op, state.image).cost, state.image);
    if (op.action === 'info') {
      return json(info({ fileSize: bytes.byteLength, format: header.format, width: state.image.width, height: state.image.height, orientation: exifOrientation(header) }), state.image);
    }
    if (op.action === 'average-hue') return json({ RGB: averageHue(state.image).hex }, state.image);
    if (op.action === 'deblindwatermark') return json(await readBlindWatermark(state.image, options.blindWatermark), state.image);
    if (op.action === 'blindwatermark') {
      state.image = await runBlindWatermark(state.image, op.params, options.blindWatermark);
      state.blindQuality = op.params.q;
      continue;
    }
    if (op.action === 'watermark') {
      state.image = await runWatermark(state.image, op, {
        loadObject: options.loadObject,
        fonts: options.fonts,
        limits: options.limits,
        preprocess: async (logo, process) => (await transform(logo, process, { limits: options.limits, outputLimits: options.outputLimits })).bytes,
      });
      continue;
    }
    await step(state, op, header, outputLimits);
  }
  throwIfAborted(options.signal);

  const quality = state.blindQuality !== undefined && state.format === 'jpeg' ? state.blindQuality : outputQuality(state, header.jpegQuality);
  const out = await encode(state.image, state.format, { quality, progressive: state.progressive && state.format === 'jpeg' });
  return Object.freeze({ bytes: out, contentType: FORMATS[state.format].mime, width: state.image.width, height: state.image.height, format: state.format });
}

async function step(state: State, op: Operation, header: ImageHeader, limits: OutputLimits): Promise<void> {
  const img = state.image;
  switch (op.action) {
    case 'resize': {
      const plan = planResize(img.width, img.height, op.params);
      state.image = await runResize(op, limits, plan, (target) => resize(img, { ...target, fit: 'fill', enlarge: true }), img);
      return;
    }
    case 'crop': {
      const rect = anchoredRect(img.width, img.height, op.params);
      if (!rect) {
        throw processError('INVALID_ARGUMENT', 'BadRequest', `Advance cut's position is out of image. Expected crop.x below ${img.width} and crop.y below ${img.height} (from anchor ${op.params.g}) but received x=${op.params.x}, y=${op.params.y}`, { action: 'crop' });
      }
      state.image = crop(img, rect);
      return;
    }
    case 'indexcrop': {
      const axis = op.params.y !== undefined ? 'y' : 'x';
      const size = (axis === 'y' ? op.params.y : op.params.x)!;
      const total = axis === 'x' ? img.width : img.height;
      if (size > total) {
        throw processError('INVALID_ARGUMENT', 'InvalidArgument', `Expected an integer between 1 and ${total} for indexcrop.${axis} but received ${describeValue(String(size))}`, { action: 'indexcrop', param: axis });
      }
      state.image = indexCrop(img, { axis, size, index: op.params.i });
      return;
    }
    case 'circle': state.image = circle(img, op.params.r!); return;
    case 'rounded-corners': state.image = roundedCorners(img, op.params.r!); return;
    case 'rotate': {
      const size = rotatedSize(img.width, img.height, op.params.value);
      checkOutputSize(size.width, size.height, 'rotate', limits);
      state.image = rotate(img, op.params.value);
      return;
    }
    case 'flip': state.image = flip(img, op.params.value!); return;
    case 'auto-orient': if (op.params.value) state.image = orient(img, header.orientation); return;
    case 'blur': {
      state.image = blur(img, blurKernel(op.params));
      return;
    }
    case 'bright': state.image = bright(img, op.params.value!); return;
    case 'contrast': state.image = contrast(img, op.params.value!); return;
    case 'sharpen': state.image = sharpen(img, op.params.value!); return;
    case 'format': setFormat(state, op, header); return;
    case 'quality': state.q = op.params.q; state.Q = op.params.Q; return;
    case 'interlace': state.progressive = op.params.value!; return;
    case 'watermark':
    case 'info':
    case 'average-hue':
    case 'blindwatermark':
    case 'deblindwatermark':
      return; // handled by the caller (they need its options; info, average-hue and deblindwatermark end the chain)
  }
}

/**
 * A resize planned by `plan`: `scale` makes the scaled image (from the image in hand, or straight
 * from the file for a leading resize); the canvas (crop or pad) follows. `img` is the image when the
 * plan may not scale at all.
 */
async function runResize(
  op: OperationOf<'resize'>,
  limits: OutputLimits,
  plan: ResizePlan,
  scale: (target: { width: number; height: number }) => Promise<RGBAImage>,
  img?: RGBAImage,
): Promise<RGBAImage> {
  if (plan.scale) checkOutputSize(plan.scale.width, plan.scale.height, 'resize', limits);
  if (plan.canvas) checkOutputSize(plan.canvas.width, plan.canvas.height, 'resize', limits);
  let out = plan.scale ? await scale(plan.scale) : img!;
  if (plan.canvas?.mode === 'crop') {
    const w = Math.min(plan.canvas.width, out.width), h = Math.min(plan.canvas.height, out.height);
    out = crop(out, { x: Math.floor((out.width - w) / 2), y: Math.floor((out.height - h) / 2), width: w, height: h });
  } else if (plan.canvas?.mode === 'pad') {
    const [r, g, b] = op.params.color;
    out = extend(out, Math.max(plan.canvas.width, out.width), Math.max(plan.canvas.height, out.height), ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0);
  }
  return out;
}

function setFormat(state: State, op: OperationOf<'format'>, header: ImageHeader): void {
  const v = op.params.value!;
  if (v === 'gif') {
    // OSS: format,gif on a non-GIF source keeps the source format. A GIF source would need a GIF encoder.
    if (header.format === 'gif') {
      throw processError('UNSUPPORTED_FORMAT', 'NotImplemented', 'Expected an output format imgpipe can write (jpg, png, webp) for format.value but received "gif" for a GIF source: imgpipe has no GIF encoder', { action: 'format', param: 'value' });
    }
    state.format = sourceOutputFormat(header.format);
    return;
  }
  state.format = v === 'jpg' || v === 'jpeg' ? 'jpeg' : v === 'png' ? 'png' : 'webp';
}

/**
 * OSS's quality rules. q is relative to the source JPEG's quality (80 with q_90 gives 72) and acts
 * like Q when there is no JPEG source quality or the output is WebP; Q is absolute but never above
 * the source quality; Q wins over q. Without a quality action a JPEG source keeps its own quality.
 */
export function outputQuality(state: Pick<State, 'format' | 'q' | 'Q'>, sourceQuality: number | undefined): number | undefined {
  if (state.format === 'png') return undefined;
  const cap = (v: number) => Math.max(1, Math.min(100, sourceQuality !== undefined ? Math.min(v, sourceQuality) : v));
  if (state.Q !== undefined) return cap(state.Q);
  if (state.q !== undefined) {
    if (state.format === 'jpeg' && sourceQuality !== undefined) return Math.max(1, Math.round((sourceQuality * state.q) / 100));
    return cap(state.q);
  }
  return state.format === 'jpeg' ? sourceQuality : undefined;
}

function exifOrientation(header: ImageHeader): number | undefined {
  return header.orientation !== 1 ? header.orientation : undefined;
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

/**
 * The output format when none is asked for: the source's own, except for formats imgpipe can't
 * write. GIF becomes PNG (still, first frame); HEIC becomes JPEG (no HEVC encoder can be shipped),
 * as HEIC photos are served by OSS, imgproxy and sharp-based servers.
 */
function sourceOutputFormat(format: FormatId): OutputFormat {
  return format === 'gif' ? 'png' : format === 'heic' ? 'jpeg' : format;
}
