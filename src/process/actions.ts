/**
 * THE action table of the x-oss-process grammar. Every action OSS documents (and the one imgpipe adds)
 * has one row: its parameters with their specs, defaults and OSS error codes, which parameters are
 * required, and any deliberate difference from OSS. The parser, its error messages, the typed
 * `Operation` union and the README's compatibility table are all derived from this table.
 */
import { b64url, flag, hex6, int, oneOf, type ParamDef } from './params.js';
import { MAX_OUTPUT_SIDE } from './limits.js';

export type ActionName =
  | 'resize' | 'crop' | 'indexcrop' | 'circle' | 'rounded-corners' | 'rotate' | 'flip' | 'auto-orient'
  | 'blur' | 'bright' | 'contrast' | 'sharpen' | 'format' | 'quality' | 'interlace' | 'info'
  | 'average-hue' | 'watermark' | 'blindwatermark' | 'deblindwatermark';

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
}

/** The nine anchors OSS uses for crop and watermark. */
const GRAVITY = oneOf('nw', 'north', 'ne', 'west', 'center', 'east', 'sw', 'south', 'se');
/** Formats OSS can write. Only jpg, png and webp are written by imgpipe (see `format`'s note). */
export const OSS_OUTPUT_FORMATS = ['jpg', 'jpeg', 'png', 'webp', 'bmp', 'gif', 'tiff', 'heic', 'avif'] as const;
const SIDE = int(1, MAX_OUTPUT_SIDE);
/** IMM's StrengthLevel. */
const STRENGTH = oneOf('low', 'medium', 'high');

export const ACTIONS = {
  resize: {
    doc: 'Scale by width/height, longer/shorter side or percentage, in five modes.',
    support: 'yes',
    note: 'Lanczos3 with premultiplied alpha. w/h win over l/s whenever present. p alone may enlarge even with limit_1 (the docs say p>100 enlarges).',
    params: {
      m: { spec: oneOf('lfit', 'mfit', 'fill', 'pad', 'fixed'), doc: 'mode', default: 'lfit', ec: '0040-00000311' },
      w: { spec: SIDE, doc: 'target width', ec: '0040-00000312' },
      h: { spec: SIDE, doc: 'target height' },
      l: { spec: SIDE, doc: 'target longer side' },
      s: { spec: SIDE, doc: 'target shorter side', ec: '0040-00000315' },
      p: { spec: int(1, 1000), doc: 'scale percentage (with w and h: multiplies both)', ec: '0040-00000317' },
      limit: { spec: flag, doc: '1: never enlarge past the source; 0: allow enlarging', default: true },
      color: { spec: hex6, doc: 'pad colour for m_pad', default: [255, 255, 255] },
    },
    requireOneOf: ['w', 'h', 'l', 's', 'p'],
    missingEc: '0040-00000322',
  },
  crop: {
    doc: 'Cut a rectangle, positioned from one of nine anchors.',
    support: 'yes',
    note: 'w_0/h_0 mean "to the edge", like an omitted w/h.',
    params: {
      w: { spec: int(0, 30000), doc: 'crop width (default: to the edge; clamped to the image)' },
      h: { spec: int(0, 30000), doc: 'crop height (default: to the edge; clamped to the image)' },
      x: { spec: int(0, 30000), doc: 'horizontal offset from the anchor', default: 0 },
      y: { spec: int(0, 30000), doc: 'vertical offset from the anchor', default: 0 },
      g: { spec: GRAVITY, doc: 'anchor cell of a 3x3 grid', default: 'nw' },
    },
  },
  indexcrop: {
    doc: 'Cut the image into equal slices along one axis and keep slice i.',
    support: 'yes',
    params: {
      x: { spec: int(1, 30000), doc: 'slice width (vertical cuts)' },
      y: { spec: int(1, 30000), doc: 'slice height (horizontal cuts); wins over x' },
      i: { spec: int(0, 30000), doc: 'slice index, 0-based; past the last slice returns the image unchanged', default: 0 },
    },
    requireOneOf: ['x', 'y'],
  },
  circle: {
    doc: 'Cut the largest centred circle of radius r (clamped to half the shorter side); outside is transparent.',
    support: 'yes',
    note: 'The output is the 2r x 2r square around the centre; JPEG output fills the outside white.',
    params: { r: { spec: int(1, 4096), doc: 'radius' } },
    requireOneOf: ['r'],
  },
  'rounded-corners': {
    doc: 'Round the corners with radius r (clamped to half the shorter side); corners become transparent.',
    support: 'yes',
    params: { r: { spec: int(1, 4096), doc: 'corner radius' } },
    requireOneOf: ['r'],
  },
  rotate: {
    doc: 'Rotate clockwise; angles that are not multiples of 90 enlarge the canvas.',
    support: 'yes',
    note: 'New canvas area is transparent (white in JPEG output). Bilinear sampling for free angles.',
    positional: 'value',
    params: { value: { spec: int(0, 360), doc: 'clockwise degrees', default: 0 } },
  },
  flip: {
    doc: 'Mirror horizontally (h), vertically (v) or both (hv).',
    support: 'extension',
    note: 'Not an OSS action: refused unless extensions are enabled, so strings stay portable to OSS.',
    positional: 'value',
    params: { value: { spec: oneOf('h', 'v', 'hv'), doc: 'axis' } },
    requireOneOf: ['value'],
  },
  'auto-orient': {
    doc: 'Apply (1) or ignore (0) the EXIF Orientation tag.',
    support: 'yes',
    note: 'Without an auto-orient action imgpipe applies the EXIF orientation (the documented-looking default).',
    positional: 'value',
    params: { value: { spec: flag, doc: '1 rotate by EXIF, 0 keep as stored', ec: '0040-00000215' } },
    requireOneOf: ['value'],
    missingEc: '0040-00000215',
  },
  blur: {
    doc: 'Gaussian blur.',
    support: 'yes',
    note: 'Either parameter alone is accepted: r alone uses s = r/2, s alone uses r = 3s (capped at 50).',
    params: {
      r: { spec: int(1, 50), doc: 'radius' },
      s: { spec: int(1, 50), doc: 'standard deviation' },
    },
    requireOneOf: ['r', 's'],
  },
  bright: {
    doc: 'Brightness: 0 leaves the image unchanged.',
    support: 'yes',
    note: 'Adds value x 2.55 to R, G and B.',
    positional: 'value',
    params: { value: { spec: int(-100, 100), doc: 'brightness' } },
    requireOneOf: ['value'],
  },
  contrast: {
    doc: 'Contrast: 0 leaves the image unchanged.',
    support: 'yes',
    note: 'Scales around mid-grey by ((100 + value) / 100)^2.',
    positional: 'value',
    params: { value: { spec: int(-100, 100), doc: 'contrast' } },
    requireOneOf: ['value'],
  },
  sharpen: {
    doc: 'Sharpen (unsharp mask); 100 is the recommended strength.',
    support: 'yes',
    positional: 'value',
    params: { value: { spec: int(50, 399), doc: 'strength' } },
    requireOneOf: ['value'],
  },
  format: {
    doc: 'Output format.',
    support: 'partial',
    note: 'jpg, png and webp are written. bmp, tiff and avif are refused (NotImplemented); heic is refused because writing HEIC needs an HEVC encoder, which can\'t be shipped (HEVC patents; x265 is GPL). gif keeps the source format for non-GIF sources, as OSS; a GIF source is refused (no GIF encoder). A HEIC source (read with the imgpipe/heic plug-in) is written as jpg when no format is asked for.',
    positional: 'value',
    params: { value: { spec: oneOf(...OSS_OUTPUT_FORMATS), doc: 'format' } },
    requireOneOf: ['value'],
  },
  quality: {
    doc: 'JPEG/WebP quality: q relative to the source JPEG quality, Q absolute (never above the source).',
    support: 'yes',
    params: {
      q: { spec: int(1, 100), doc: 'relative quality (percent of the source JPEG quality; absolute otherwise)' },
      Q: { spec: int(1, 100), doc: 'absolute quality, capped at the source quality; wins over q' },
    },
    requireOneOf: ['q', 'Q'],
  },
  interlace: {
    doc: 'Progressive (1) or baseline (0) JPEG output.',
    support: 'yes',
    positional: 'value',
    params: { value: { spec: flag, doc: '1 progressive, 0 baseline' } },
    requireOneOf: ['value'],
  },
  info: {
    doc: 'Answer JSON: FileSize, Format, ImageWidth, ImageHeight (and EXIF Orientation).',
    support: 'partial',
    note: 'Of the EXIF tags only Orientation is reported. Must end the chain; sizes are those at that point.',
    params: {},
    terminal: true,
  },
  'average-hue': {
    doc: 'Answer JSON {"RGB":"0xRRGGBB"}: the alpha-weighted mean colour.',
    support: 'yes',
    params: {},
    terminal: true,
  },
  watermark: {
    doc: 'Text and/or image watermark.',
    support: 'yes',
    params: {
      t: { spec: int(0, 100), doc: 'opacity', default: 100 },
      g: { spec: GRAVITY, doc: 'anchor', default: 'se' },
      x: { spec: int(0, 4096), doc: 'horizontal margin', default: 10 },
      y: { spec: int(0, 4096), doc: 'vertical margin', default: 10 },
      voffset: { spec: int(-1000, 1000), doc: 'vertical shift for west/center/east', default: 0 },
      fill: { spec: flag, doc: 'tile over the whole image', default: false },
      padx: { spec: int(0, 4096), doc: 'horizontal spacing between tiles', default: 0, ec: '0040-00000276' },
      pady: { spec: int(0, 4096), doc: 'vertical spacing between tiles', default: 0, ec: '0040-00000276' },
      image: { spec: b64url(1023), doc: 'object key of the watermark image, optionally with ?x-oss-process=' },
      text: { spec: b64url(64), doc: 'text' },
      type: { spec: b64url(64), doc: 'font name', default: 'wqy-zenhei', note: 'Font bytes come from the caller\'s font resolver; without one (or for an unknown name) the embedded Noto Sans Latin is used' },
      color: { spec: hex6, doc: 'text colour', default: [0, 0, 0] },
      size: { spec: int(1, 1000), doc: 'font size, px', default: 40 },
      shadow: { spec: int(0, 100), doc: 'shadow opacity', default: 0 },
      rotate: { spec: int(0, 360), doc: 'text rotation, clockwise degrees', default: 0 },
      order: { spec: oneOf('0', '1'), doc: '0 image above text, 1 text above image', default: '0' },
      align: { spec: oneOf('0', '1', '2'), doc: 'text/image alignment: 0 top, 1 centre, 2 bottom', default: '2' },
      interval: { spec: int(0, 1000), doc: 'gap between text and image, px', default: 0 },
    },
    requireOneOf: ['image', 'text'],
  },
  blindwatermark: {
    doc: 'Invisible watermark (IMM\'s EncodeBlindWatermark): text hidden in the pixels, readable with deblindwatermark.',
    support: 'partial',
    note: 'Up to 8 bytes of UTF-8 go in the pixels; longer text (OSS allows 256 characters) is embedded as an ID only when the caller passes a registry (blindWatermark.register), else refused with the capacity. Images under 80 px on a side or with a short side under half the long side are refused, as IMM. The key is the caller\'s (blindWatermark.key), a documented default otherwise. Synchronous and chainable; OSS requires sys/saveas.',
    params: {
      content: { spec: b64url(256), doc: 'text to hide' },
      s: { spec: STRENGTH, doc: 'strength: higher resists attacks better and changes the image more', default: 'low' },
      q: { spec: int(70, 100), doc: 'JPEG quality of the written result (JPEG output only)', default: 90 },
    },
    requireOneOf: ['content'],
  },
  deblindwatermark: {
    doc: 'Read an invisible watermark: answers JSON {"found":true,"content":"..."} or {"found":false}.',
    support: 'partial',
    note: 'Answers synchronously (OSS answers asynchronously: x-oss-async-process with sys/notify to an MNS topic). An ID embedded for long text is answered as "id", with "content" when blindWatermark.resolve knows it. The strength need not match the embedding\'s.',
    params: {
      s: { spec: STRENGTH, doc: 'strength the mark was embedded with (accepted; extraction does not need it)', default: 'low' },
      t: { spec: oneOf('text'), doc: 'watermark type', default: 'text' },
    },
    terminal: true,
  },
} as const satisfies Record<ActionName, ActionDef>;

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

type Table = typeof ACTIONS;
type ValueOf<D> = D extends { readonly spec: { readonly parse: (raw: string) => infer T } } ? Exclude<T, undefined> : never;
type WithDefault<P> = { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P];

/** The typed parameters of action A: parameters with a default are always present, others optional. */
export type ParamsOf<A extends ActionName> = {
  readonly [K in WithDefault<Table[A]['params']>]: ValueOf<Table[A]['params'][K]>;
} & {
  readonly [K in Exclude<keyof Table[A]['params'], WithDefault<Table[A]['params']>>]?: ValueOf<Table[A]['params'][K]>;
};

/** One parsed, validated step of a process string. */
export type Operation = { [A in ActionName]: { readonly action: A; readonly params: ParamsOf<A> } }[ActionName];

/** The operation for a given action name. */
export type OperationOf<A extends ActionName> = Extract<Operation, { action: A }>;

export function actionDef(name: ActionName): ActionDef {
  return ACTIONS[name];
}

export function isActionName(name: string): name is ActionName {
  return Object.prototype.hasOwnProperty.call(ACTIONS, name);
}
