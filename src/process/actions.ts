/**
 * THE action table of the x-oss-process grammar. Every action OSS documents (and the one imgpipe adds)
 * has one row: its parameters, taken from the op file that owns their specs (ranges, defaults,
 * messages) plus OSS's own facts (error codes, positional names, OSS-only parameters), which
 * parameters are required, any deliberate difference from OSS, and the step that applies it. The
 * parser, its error messages, the typed `Operation` union, the engine's steps and the README's
 * compatibility table are all derived from this table.
 *
 * Adding an action is one row here plus its op file (`src/ops/<name>.ts`: the pure function and its
 * `<NAME>_PARAMS`); `ActionName` follows from the rows, and the table-driven test in
 * `test/process/params.test.ts` checks the op and the row accept and refuse the same values.
 */
import { describeValue } from '../errors.js';
import { FORMATS, ossOutputFormat, sourceOutputFormat, writableRows } from '../formats.js';
import { averageHue } from '../ops/average-hue.js';
import { BLIND_WATERMARK_PARAMS, DEBLIND_WATERMARK_PARAMS } from '../ops/blind-watermark.js';
import { BLUR_PARAMS, blur, blurKernel, blurPasses } from '../ops/blur.js';
import { BRIGHT_PARAMS, bright } from '../ops/bright.js';
import { CIRCLE_PARAMS, circle } from '../ops/circle.js';
import { CONTRAST_PARAMS, contrast } from '../ops/contrast.js';
import { CROP_PARAMS, anchoredRect, crop, type Rect } from '../ops/crop.js';
import { FLIP_PARAMS, flip } from '../ops/flip.js';
import { INDEXCROP_PARAMS, indexCrop, sliceRect, sliceTooLarge } from '../ops/indexcrop.js';
import { info } from '../ops/info.js';
import { orient } from '../ops/orient.js';
import { RESIZE_PARAMS, SIDE, resize } from '../ops/resize.js';
import { ROTATE_PARAMS, rotate, rotatedSize } from '../ops/rotate.js';
import { ROUNDED_CORNERS_PARAMS, roundedCorners } from '../ops/rounded-corners.js';
import { SHARPEN_PARAMS, SHARPEN_PASSES, sharpen } from '../ops/sharpen.js';
import { MAX_WATERMARK_TEXT, WATERMARK_PARAMS as WM } from '../ops/watermark.js';
import { QUALITY, b64url, flag, hex6, int, oneOf, type ParamSpec } from '../spec.js';
import { checkOutputSize } from './limits.js';
import { processError } from './oss-error.js';
import { withEc, type ParamDef } from './params.js';
import { planResize } from './resize-plan.js';
import { runResize, type StepContext, type StepResult } from './step.js';
import { runWatermark } from './watermark-step.js';
import { readBlindWatermark, runBlindWatermark } from './blindwatermark-step.js';

/**
 * - `yes`: behaves as OSS documents.
 * - `partial`: accepted, with the differences given in `note`.
 * - `extension`: not an OSS action; refused unless the caller opts in (a string using it would fail on OSS).
 */
export type Support = 'yes' | 'partial' | 'extension';

export interface ActionDef {
  readonly doc: string;
  readonly support: Support;
  readonly note?: string;
  /** The parameter written as a bare value, e.g. `rotate,90`. */
  readonly positional?: string;
  readonly params: Readonly<Record<string, ParamDef<unknown>>>;
  /** At least one of these must be present (MissingArgument otherwise). */
  readonly requireOneOf?: readonly string[];
  /** OSS's EC when none of `requireOneOf` is present. */
  readonly missingEc?: string;
  /** The action produces JSON instead of an image, so it must end the chain. */
  readonly terminal?: boolean;
  /** A check across the parsed parameters, run by the parser (nothing is decoded for a bad string). */
  readonly validate?: (params: never) => void;
  /** The step: changes `ctx.state` (the image, the output settings), or answers JSON. */
  readonly apply: (ctx: StepContext, params: never) => StepResult | Promise<StepResult>;
  /** Its price for the cost budget (budget.ts) on an image of `size`; one pass per pixel, size kept, if absent. */
  readonly cost?: (params: never, size: Size) => StepCost;
  /**
   * For a step that keeps a rectangle of the image (crop, indexcrop): that rectangle of an image of
   * `size`, or undefined when the step keeps everything or refuses. First in the chain, the decoder
   * then produces only the rectangle (crop-on-load) and the step is not run.
   */
  readonly region?: (params: never, size: Size) => Rect | undefined;
}

export interface Size { readonly width: number; readonly height: number }

/**
 * A step's work in pixel passes (pixels touched times the work per pixel, in units of one pass of
 * plain JavaScript over RGBA: about 6 ns a pixel on one core) and the size it leaves.
 */
export interface StepCost { readonly cost: number; readonly size: Size }

type ValueOf<D> = D extends { readonly spec: ParamSpec<infer T> } ? Exclude<T, undefined> : never;
type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;
/** The one parameter an action cannot go without (a `requireOneOf` of one name), else never. */
type Sole<R> = [R] extends [never] ? never : [R] extends [UnionToIntersection<R>] ? R : never;
type Present<P, R> = { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : K extends Sole<R> ? K : never }[keyof P];

/** Typed parameters: those with a default or required are always present, the others optional. */
export type ParamsFrom<P, R = never> = {
  readonly [K in Present<P, R>]: ValueOf<P[K]>;
} & {
  readonly [K in Exclude<keyof P, Present<P, R>>]?: ValueOf<P[K]>;
};

/** A row, typed so its `validate` and `apply` see its own parameters. */
function action<const P extends Readonly<Record<string, ParamDef<unknown>>>, const R extends keyof P & string = never>(
  row: Omit<ActionDef, 'params' | 'requireOneOf' | 'validate' | 'apply' | 'cost' | 'region'> & {
    readonly params: P;
    readonly requireOneOf?: readonly R[];
    readonly validate?: (params: ParamsFrom<P, R>) => void;
    readonly apply: (ctx: StepContext, params: ParamsFrom<P, R>) => StepResult | Promise<StepResult>;
    readonly cost?: (params: ParamsFrom<P, R>, size: Size) => StepCost;
    readonly region?: (params: ParamsFrom<P, R>, size: Size) => Rect | undefined;
  },
) {
  return row;
}

/** IMM's StrengthLevel. */

/** Lanczos3 resize, per scaled pixel (two 6-tap passes, rounded up for the sampling overhead). */
const RESIZE_PASSES = 12;
/** Encoder settings: no pixels touched. */
const FREE = (_p: unknown, size: Size): StepCost => ({ cost: 0, size });

/** The values OSS's `format` action documents. Which of them imgpipe writes comes from `FORMATS`. */
const OSS_FORMATS = ['jpg', 'jpeg', 'png', 'webp', 'bmp', 'gif', 'tiff', 'heic', 'avif'] as const;
/** `a, b and c`. */
const and = (v: readonly string[]) => (v.length > 1 ? `${v.slice(0, -1).join(', ')} and ${v[v.length - 1]}` : v.join(''));
const writtenNames = () => writableRows().map((f) => f.oss.name);
const unwritable = (received: string, why = '') => processError(
  'UNSUPPORTED_FORMAT', 'NotImplemented',
  `Expected an output format imgpipe can write (${writtenNames().join(', ')}) for format.value but received ${describeValue(received)}${why}`,
  { action: 'format', param: 'value' },
);

export const ACTIONS = {
  resize: action({
    doc: 'Scale by width/height, longer/shorter side or percentage, in five modes.',
    support: 'yes',
    note: 'Lanczos3 with premultiplied alpha. w/h win over l/s whenever present. p alone may enlarge even with limit_1 (the docs say p>100 enlarges).',
    params: {
      m: { spec: oneOf('lfit', 'mfit', 'fill', 'pad', 'fixed'), doc: 'mode', default: 'lfit', ec: '0040-00000311' },
      w: withEc(RESIZE_PARAMS.w, '0040-00000312'),
      h: RESIZE_PARAMS.h,
      l: { spec: SIDE, doc: 'target longer side' },
      s: { spec: SIDE, doc: 'target shorter side', ec: '0040-00000315' },
      p: { spec: int(1, 1000), doc: 'scale percentage (with w and h: multiplies both)', ec: '0040-00000317' },
      limit: { spec: flag, doc: '1: never enlarge past the source; 0: allow enlarging', default: true },
      color: { spec: hex6, doc: 'pad colour for m_pad', default: [255, 255, 255] },
    },
    requireOneOf: ['w', 'h', 'l', 's', 'p'],
    missingEc: '0040-00000322',
    apply: async ({ state, limits }, p) => {
      const img = state.image;
      state.image = await runResize(p.color, limits, planResize(img.width, img.height, p), (target) => resize(img, { ...target, fit: 'fill', enlarge: true }), img);
    },
    // Reading the source, Lanczos3 per scaled pixel (two 6-tap passes, rounded up for the sampling), the canvas.
    cost: (p, size) => {
      const plan = planResize(size.width, size.height, p);
      const out = plan.canvas ?? plan.scale ?? size;
      const scaled = plan.scale ? plan.scale.width * plan.scale.height : 0;
      return { cost: size.width * size.height + RESIZE_PASSES * scaled + out.width * out.height, size: { width: out.width, height: out.height } };
    },
  }),
  crop: action({
    doc: 'Cut a rectangle, positioned from one of nine anchors.',
    support: 'yes',
    note: 'w_0/h_0 mean "to the edge", like an omitted w/h.',
    params: CROP_PARAMS,
    apply: ({ state }, p) => {
      const img = state.image;
      const rect = anchoredRect(img.width, img.height, p);
      if (!rect) {
        throw processError('INVALID_ARGUMENT', 'BadRequest', `Advance cut's position is out of image. Expected crop.x below ${img.width} and crop.y below ${img.height} (from anchor ${p.g}) but received x=${p.x}, y=${p.y}`, { action: 'crop' });
      }
      state.image = crop(img, rect);
    },
    cost: (p, size) => {
      const rect = anchoredRect(size.width, size.height, p);
      const out = rect ? { width: rect.width, height: rect.height } : size;
      return { cost: out.width * out.height, size: out };
    },
    region: (p, size) => anchoredRect(size.width, size.height, p),
  }),
  indexcrop: action({
    doc: 'Cut the image into equal slices along one axis and keep slice i.',
    support: 'yes',
    params: INDEXCROP_PARAMS,
    requireOneOf: ['x', 'y'],
    apply: ({ state }, p) => {
      const axis = p.y !== undefined ? 'y' : 'x';
      const size = (axis === 'y' ? p.y : p.x)!;
      const total = axis === 'x' ? state.image.width : state.image.height;
      // The op refuses this too; here it carries OSS's code.
      if (size > total) throw processError('INVALID_ARGUMENT', 'InvalidArgument', sliceTooLarge(axis, total, String(size)), { action: 'indexcrop', param: axis });
      state.image = indexCrop(state.image, { axis, size, index: p.i });
    },
    region: (p, size) => (p.y !== undefined ? sliceRect(size.width, size.height, 'y', p.y, p.i) : sliceRect(size.width, size.height, 'x', p.x!, p.i)),
  }),
  circle: action({
    doc: 'Cut the largest centred circle of radius r (clamped to half the shorter side); outside is transparent.',
    support: 'yes',
    note: 'The output is the 2r x 2r square around the centre; JPEG output fills the outside white.',
    params: CIRCLE_PARAMS,
    requireOneOf: ['r'],
    apply: ({ state }, p) => { state.image = circle(state.image, p.r); },
    cost: (p, size) => {
      const side = Math.min(2 * p.r, size.width, size.height);
      return { cost: 2 * side * side, size: { width: side, height: side } };
    },
  }),
  'rounded-corners': action({
    doc: 'Round the corners with radius r (clamped to half the shorter side); corners become transparent.',
    support: 'yes',
    params: ROUNDED_CORNERS_PARAMS,
    requireOneOf: ['r'],
    apply: ({ state }, p) => { state.image = roundedCorners(state.image, p.r); },
  }),
  rotate: action({
    doc: 'Rotate clockwise; angles that are not multiples of 90 enlarge the canvas.',
    support: 'yes',
    note: 'New canvas area is transparent (white in JPEG output). Bilinear sampling for free angles.',
    positional: 'value',
    params: ROTATE_PARAMS,
    apply: ({ state, limits }, p) => {
      const size = rotatedSize(state.image.width, state.image.height, p.value);
      checkOutputSize(size.width, size.height, 'rotate', limits);
      state.image = rotate(state.image, p.value);
    },
    // Arbitrary angles sample four neighbours per output pixel.
    cost: (p, size) => {
      const out = rotatedSize(size.width, size.height, p.value);
      return { cost: 4 * out.width * out.height, size: out };
    },
  }),
  flip: action({
    doc: 'Mirror horizontally (h), vertically (v) or both (hv).',
    support: 'extension',
    note: 'Not an OSS action: refused unless extensions are enabled, so strings stay portable to OSS.',
    positional: 'value',
    params: FLIP_PARAMS,
    requireOneOf: ['value'],
    apply: ({ state }, p) => { state.image = flip(state.image, p.value); },
  }),
  'auto-orient': action({
    doc: 'Apply (1) or ignore (0) the EXIF Orientation tag.',
    support: 'yes',
    note: 'Without an auto-orient action imgpipe applies the EXIF orientation (the documented-looking default).',
    positional: 'value',
    params: { value: { spec: flag, doc: '1 rotate by EXIF, 0 keep as stored', ec: '0040-00000215' } },
    requireOneOf: ['value'],
    missingEc: '0040-00000215',
    apply: ({ state, header }, p) => { if (p.value) state.image = orient(state.image, header.orientation); },
  }),
  blur: action({
    doc: 'Gaussian blur.',
    support: 'yes',
    note: 'Either parameter alone is accepted: r alone uses s = r/2, s alone uses r = 3s (capped at 50).',
    params: BLUR_PARAMS,
    requireOneOf: ['r', 's'],
    apply: async ({ state }, p) => { state.image = await blur(state.image, { radius: p.r, sigma: p.s }); },
    cost: (p, size) => ({ cost: Math.ceil(blurPasses(blurKernel(p.r, p.s).radius) * size.width * size.height), size }),
  }),
  bright: action({
    doc: 'Brightness: 0 leaves the image unchanged.',
    support: 'yes',
    note: 'Adds value x 2.55 to R, G and B.',
    positional: 'value',
    params: BRIGHT_PARAMS,
    requireOneOf: ['value'],
    apply: ({ state }, p) => { state.image = bright(state.image, p.value); },
  }),
  contrast: action({
    doc: 'Contrast: 0 leaves the image unchanged.',
    support: 'yes',
    note: 'Scales around mid-grey by ((100 + value) / 100)^2.',
    positional: 'value',
    params: CONTRAST_PARAMS,
    requireOneOf: ['value'],
    apply: ({ state }, p) => { state.image = contrast(state.image, p.value); },
  }),
  sharpen: action({
    doc: 'Sharpen (unsharp mask); 100 is the recommended strength.',
    support: 'yes',
    positional: 'value',
    params: SHARPEN_PARAMS,
    requireOneOf: ['value'],
    apply: async ({ state }, p) => { state.image = await sharpen(state.image, p.value); },
    cost: (_p, size) => ({ cost: SHARPEN_PASSES * size.width * size.height, size }),
  }),
  format: action({
    doc: 'Output format.',
    support: 'partial',
    note: `${and(writtenNames())} are written. ${and(OSS_FORMATS.filter((v) => v !== 'gif' && v !== 'heic' && !ossOutputFormat(v)))} are refused (NotImplemented); heic is refused because writing HEIC needs an HEVC encoder, which can't be shipped (HEVC patents; x265 is GPL). gif keeps the source format for non-GIF sources, as OSS; a GIF source is refused (no GIF encoder). A HEIC source (read with the imgpipe/heic plug-in) is written as jpg when no format is asked for. avif is written by the opt-in imgpipe/avif plug-in (without it, refused with how to enable it).`,
    positional: 'value',
    params: { value: { spec: oneOf(...OSS_FORMATS), doc: 'format' } },
    requireOneOf: ['value'],
    validate: (p) => {
      if (p.value !== 'gif' && !ossOutputFormat(p.value)) throw unwritable(p.value);
    },
    apply: ({ state, header }, p) => {
      if (p.value !== 'gif') {
        state.format = ossOutputFormat(p.value)!;
        return;
      }
      // OSS: format,gif keeps the source format. A GIF source would need a GIF encoder.
      if (FORMATS[header.format].oss.aliases.includes('gif')) throw unwritable('gif', ` for a ${FORMATS[header.format].name} source: imgpipe has no GIF encoder`);
      state.format = sourceOutputFormat(header.format);
    },
    cost: FREE,
  }),
  quality: action({
    doc: 'JPEG/WebP quality: q relative to the source JPEG quality, Q absolute (never above the source).',
    support: 'yes',
    params: {
      q: { spec: QUALITY, doc: 'relative quality (percent of the source JPEG quality; absolute otherwise)' },
      Q: { spec: QUALITY, doc: 'absolute quality, capped at the source quality; wins over q' },
    },
    requireOneOf: ['q', 'Q'],
    apply: ({ state }, p) => { state.q = p.q; state.Q = p.Q; },
    cost: FREE,
  }),
  interlace: action({
    doc: 'Progressive (1) or baseline (0) JPEG output.',
    support: 'yes',
    positional: 'value',
    params: { value: { spec: flag, doc: '1 progressive, 0 baseline' } },
    requireOneOf: ['value'],
    apply: ({ state }, p) => { state.progressive = p.value; },
    cost: FREE,
  }),
  info: action({
    doc: 'Answer JSON: FileSize, Format, ImageWidth, ImageHeight (and EXIF Orientation).',
    support: 'partial',
    note: 'Of the EXIF tags only Orientation is reported. Must end the chain; sizes are those at that point.',
    params: {},
    terminal: true,
    apply: ({ state, header, sourceBytes }) => ({
      json: info({ fileSize: sourceBytes, format: header.format, width: state.image.width, height: state.image.height, orientation: reportedOrientation(header.orientation) }),
    }),
  }),
  'average-hue': action({
    doc: 'Answer JSON {"RGB":"0xRRGGBB"}: the alpha-weighted mean colour.',
    support: 'yes',
    params: {},
    terminal: true,
    apply: ({ state }) => ({ json: { RGB: averageHue(state.image).hex } }),
  }),
  watermark: action({
    doc: 'Text and/or image watermark.',
    support: 'yes',
    params: {
      t: WM.t, g: WM.g, x: WM.x, y: WM.y, voffset: WM.voffset, fill: WM.fill,
      padx: withEc(WM.padx, '0040-00000276'),
      pady: withEc(WM.pady, '0040-00000276'),
      image: { spec: b64url(1023), doc: 'object key of the watermark image, optionally with ?x-oss-process=' },
      text: { spec: b64url(MAX_WATERMARK_TEXT), doc: 'text' },
      type: { spec: b64url(64), doc: 'font name', default: 'wqy-zenhei', note: 'Font bytes come from the caller\'s font resolver; without one (or for an unknown name) the embedded Noto Sans Latin is used' },
      color: WM.color, size: WM.size, shadow: WM.shadow, rotate: WM.rotate, order: WM.order, align: WM.align, interval: WM.interval,
    },
    requireOneOf: ['image', 'text'],
    apply: async ({ state, watermark }, p) => { state.image = await runWatermark(state.image, p, watermark); },
    cost: (_p, size) => ({ cost: 3 * size.width * size.height, size }),
  }),
  blindwatermark: action({
    doc: 'Invisible watermark (IMM\'s EncodeBlindWatermark): text hidden in the pixels, readable with deblindwatermark.',
    support: 'partial',
    note: 'Up to 8 bytes of UTF-8 go in the pixels; longer text (OSS allows 256 characters) is embedded as an ID only when the caller passes a registry (blindWatermark.register), else refused with the capacity. Images under 80 px on a side or with a short side under half the long side are refused, as IMM. The key is the caller\'s (blindWatermark.key), a documented default otherwise. Synchronous and chainable; OSS requires sys/saveas.',
    params: BLIND_WATERMARK_PARAMS,
    requireOneOf: ['content'],
    apply: async ({ state, blindWatermark }, p) => {
      state.image = await runBlindWatermark(state.image, p, blindWatermark);
      state.blindQuality = p.q;
    },
    // Luma, texture mask (four box passes) and the tile: about 20 passes.
    cost: (_p, size) => ({ cost: 20 * size.width * size.height, size }),
  }),
  deblindwatermark: action({
    doc: 'Read an invisible watermark: answers JSON {"found":true,"content":"..."} or {"found":false}.',
    support: 'partial',
    note: 'Answers synchronously (OSS answers asynchronously: x-oss-async-process with sys/notify to an MNS topic). An ID embedded for long text is answered as "id", with "content" when blindWatermark.resolve knows it. The strength need not match the embedding\'s.',
    params: DEBLIND_WATERMARK_PARAMS,
    terminal: true,
    apply: async ({ state, blindWatermark }) => ({ json: await readBlindWatermark(state.image, blindWatermark) }),
    // Whitening (three box passes) and folds over the whole image, plus the geometric search: a
    // 1024x1024 autocorrelation and up to ~150 folds of the 512x512 centre.
    cost: (_p, size) => ({ cost: 24 * size.width * size.height + 150 * 512 * 512, size }),
  }),
} satisfies Record<string, ActionDef>;

/** Every action name, from the table's rows. */
export type ActionName = keyof typeof ACTIONS;

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

type Table = typeof ACTIONS;
type RequiredOf<D> = D extends { readonly requireOneOf?: readonly (infer R)[] } ? R : never;

/** The typed parameters of action A: parameters with a default, or that A requires alone, are always present. */
export type ParamsOf<A extends ActionName> = ParamsFrom<Table[A]['params'], RequiredOf<Table[A]>>;

/** One parsed, validated step of a process string. */
export type Operation = { [A in ActionName]: { readonly action: A; readonly params: ParamsOf<A> } }[ActionName];

/** The operation for a given action name. */
export type OperationOf<A extends ActionName> = Extract<Operation, { action: A }>;

export function isActionName(name: string): name is ActionName {
  return Object.prototype.hasOwnProperty.call(ACTIONS, name);
}

/** `info` reports Orientation only when the file carries the tag. */
export function reportedOrientation(orientation: number): number | undefined {
  return orientation !== 1 ? orientation : undefined;
}
