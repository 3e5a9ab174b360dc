/**
 * The `watermark` action: OSS parameters -> the watermark engine's typed options. An image watermark
 * names an object in the same bucket, optionally with its own process string
 * (`panda.png?x-oss-process=image/resize,P_30`); that string may only use OSS's preprocessing actions,
 * and its `P` (logo width as a percentage of the main image) is taken out and given to the engine.
 */
import { decode } from '../decode.js';
import { describeValue } from '../errors.js';
import type { Limits } from '../limits.js';
import type { RGBAImage } from '../image.js';
import { watermark, type WatermarkOptions } from '../ops/watermark.js';
import type { FontBytes } from '../text/font.js';
import { WATERMARK_PARAMS } from '../ops/watermark.js';
import type { Operation, ParamsOf } from './actions.js';
import { processError } from './oss-error.js';

/** Reads an object of the same bucket (image watermarks). */
export type ObjectLoader = (key: string) => Promise<Uint8Array>;
/** Font bytes for an OSS font name (`wqy-zenhei`, ...); undefined uses the embedded font. */
export type FontResolver = (name: string) => Promise<FontBytes | undefined> | FontBytes | undefined;

/** OSS's list of actions allowed in a watermark image's own process string. */
const PREPROCESS = new Set(['resize', 'crop', 'indexcrop', 'rounded-corners', 'rotate']);
/** OSS: at most three image watermarks per image. */
export const MAX_IMAGE_WATERMARKS = 3;

/** What the watermark step needs from the engine: loaders and the engine itself, for a logo's own process string. */
export interface WatermarkContext {
  readonly loadObject?: ObjectLoader;
  readonly fonts?: FontResolver;
  /** Source limits: the logo is a source too, decoded under the same bytes, pixels and side limits. */
  readonly limits?: Partial<Limits>;
  /** Parses the logo's own process string (the parser and the engine are passed in: they read the action table, which holds this step). */
  readonly parse: (process: string) => readonly Operation[];
  /** Runs the logo's own process string. */
  readonly preprocess: (bytes: Uint8Array, process: string) => Promise<Uint8Array>;
}

export async function runWatermark(image: RGBAImage, p: ParamsOf<'watermark'>, ctx: WatermarkContext): Promise<RGBAImage> {
  const options: { -readonly [K in keyof WatermarkOptions]: WatermarkOptions[K] } = {
    opacity: p.t, gravity: p.g, x: p.x, y: p.y, voffset: p.voffset, fill: p.fill, padx: p.padx, pady: p.pady,
    order: p.order, align: p.align, interval: p.interval,
  };
  if (p.text !== undefined) {
    Object.assign(options, {
      text: p.text, size: p.size, shadow: p.shadow, rotate: p.rotate,
      color: p.color.map((v) => v.toString(16).padStart(2, '0')).join(''),
      font: ctx.fonts ? await ctx.fonts(p.type) : undefined,
    });
  }
  if (p.image !== undefined) {
    const [key, query] = splitKey(p.image);
    if (!ctx.loadObject) {
      throw processError('NOT_FOUND', 'WatermarkError', `Expected a way to read watermark.image ${describeValue(key)} but no object loader was given`, { action: 'watermark', param: 'image' });
    }
    let bytes = await ctx.loadObject(key);
    if (query !== undefined) {
      const { process, percent } = takePercent(query);
      if (percent !== undefined) options.percent = percent;
      if (process !== undefined) {
        for (const pre of ctx.parse(process)) {
          if (!PREPROCESS.has(pre.action)) {
            throw processError('INVALID_ARGUMENT', 'WatermarkError', `Expected watermark image preprocessing with ${[...PREPROCESS].join(', ')} but received ${describeValue(pre.action)}`, { action: 'watermark', param: 'image' });
          }
        }
        bytes = await ctx.preprocess(bytes, `${process}/format,png`);
      }
    }
    // Decoded here, under the caller's limits: the engine's own decode would apply the defaults (a
    // 100 MP logo got through a handler configured for 8 MP).
    options.image = await decode(bytes, { limits: ctx.limits });
  }
  return watermark(image, options);
}

/**
 * The objects and font names a chain's watermarks will ask `loadObject` and `fonts` for, so a caller
 * that runs the chain elsewhere (a worker thread) can read them first and send them along.
 */
export function watermarkInputs(ops: readonly Operation[]): { readonly keys: readonly string[]; readonly fonts: readonly string[] } {
  const keys = new Set<string>(), fonts = new Set<string>();
  for (const op of ops) {
    if (op.action !== 'watermark') continue;
    if (op.params.image !== undefined) keys.add(splitKey(op.params.image)[0]);
    if (op.params.text !== undefined) fonts.add(op.params.type);
  }
  return { keys: [...keys], fonts: [...fonts] };
}

/** `key?x-oss-process=image/...` -> [key, process]. */
function splitKey(value: string): [string, string | undefined] {
  const q = value.indexOf('?');
  if (q < 0) return [value, undefined];
  const process = new URLSearchParams(value.slice(q + 1)).get('x-oss-process') ?? undefined;
  return [value.slice(0, q), process];
}

/** Take `P_<n>` out of the logo's resize actions (it scales against the main image, not the logo). */
function takePercent(process: string): { process?: string; percent?: number } {
  let percent: number | undefined;
  const actions = process.replace(/^image\//, '').split('/').map((segment) => {
    const [name, ...tokens] = segment.split(',');
    if (name !== 'resize') return segment;
    const kept = tokens.filter((t) => {
      const m = /^P_(.*)$/.exec(t);
      if (!m) return true;
      percent = WATERMARK_PARAMS.P.spec.parse(m[1]);
      if (percent === undefined) {
        throw processError('INVALID_ARGUMENT', 'InvalidArgument', `Expected ${WATERMARK_PARAMS.P.spec.expected} for watermark image resize.P but received ${describeValue(m[1])}`, { action: 'watermark', param: 'P' });
      }
      return false;
    });
    return kept.length ? [name, ...kept].join(',') : undefined;
  }).filter((s): s is string => s !== undefined && s.length > 0);
  return { process: actions.length ? `image/${actions.join('/')}` : undefined, percent };
}
