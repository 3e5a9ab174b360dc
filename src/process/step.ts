/**
 * What an action's apply step works on: the x-oss-process engine's state between steps (the image,
 * the output format and encoder settings) and what every step may read (the source header, the
 * output limits, the watermark's loaders). The steps themselves are the `apply` of each row of
 * `actions.ts`; `transform.ts` only sequences them.
 */
import type { OutputFormat } from '../formats.js';
import type { ImageHeader } from '../header.js';
import type { RGBAImage } from '../image.js';
import { crop } from '../ops/crop.js';
import { extend } from '../ops/extend.js';
import type { RGB } from '../spec.js';
import { checkOutputSize, type OutputLimits } from './limits.js';
import type { ResizePlan } from './resize-plan.js';
import type { WatermarkContext } from './watermark-step.js';
import type { BlindWatermarkProcessOptions } from './blindwatermark-step.js';

export interface StepState {
  image: RGBAImage;
  /** The format the result will be written in (the source's, unless `format` changes it). */
  format: OutputFormat;
  /** `quality,q_`: relative quality. */
  q?: number;
  /** `quality,Q_`: absolute quality. */
  Q?: number;
  /** `interlace,1`: progressive JPEG. */
  progressive: boolean;
  /** blindwatermark's q: the JPEG quality the marked result is written at. */
  blindQuality?: number;
}

export interface StepContext {
  readonly state: StepState;
  /** The source's header (orientation, format, JPEG quality). */
  readonly header: ImageHeader;
  /** Size of the source in bytes (`info`'s FileSize). */
  readonly sourceBytes: number;
  readonly limits: OutputLimits;
  readonly watermark: WatermarkContext;
  /** Key and ID registry for `blindwatermark` / `deblindwatermark`. */
  readonly blindWatermark?: BlindWatermarkProcessOptions;
}

/** A step that answers JSON instead of an image ends the chain with this. */
export type StepResult = void | { readonly json: unknown };

/**
 * A resize planned by `plan`: `scale` makes the scaled image (from the image in hand, or straight
 * from the file for a leading resize); the canvas (crop or pad) follows. `img` is the image when the
 * plan may not scale at all.
 */
export async function runResize(
  color: RGB,
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
    const [r, g, b] = color;
    out = extend(out, Math.max(plan.canvas.width, out.width), Math.max(plan.canvas.height, out.height), ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0);
  }
  return out;
}
