/**
 * Text and logo watermarks with OSS's parameters (x-oss-process `watermark`, spec §1.16): rendered in
 * TypeScript from the font's outlines, so the result is the same in Node, browsers and Workers.
 *
 * The parameters' ranges are written once, in `WATERMARK_PARAMS` below, and the x-oss-process action
 * table is built from them, so typed options and process strings are refused with the same words.
 */
import { ImgpipeError, describeValue } from '../errors.js';
import { createImage, type RGBAImage } from '../image.js';
import { checkOption, choice, flag, gravity, gravityCell, hex6, int, type Gravity, type OpParam, type OpParams, type RGB } from '../spec.js';
import { defaultFont, loadFont, type FontBytes, type LoadedFont } from '../text/font.js';
import { measureText, renderText } from '../text/render.js';
import type { PixelWindow } from '../text/raster.js';
import { compositeOver } from './watermark-composite.js';
import { loadLogo } from './watermark-logo.js';

export type { Gravity };

export interface WatermarkOptions {
  /** Text to draw (OSS `text`): 1 to 64 characters, any script the font covers. */
  readonly text?: string;
  /**
   * Font for `text` (OSS `type` names a font; here the caller passes its bytes): TTF, OTF or WOFF.
   * Characters it lacks fall back to the embedded Noto Sans Latin. Default: that font alone.
   */
  readonly font?: FontBytes;
  /** Text colour, RRGGBB without `#` (OSS `color`). Default `000000`. */
  readonly color?: string;
  /** Font size in px per em, 1..1000 (OSS `size`). Default 40. */
  readonly size?: number;
  /** Opacity of the whole watermark, 0..100 (OSS `t`). Default 100. */
  readonly opacity?: number;
  /** Anchor (OSS `g`). Default `se`. */
  readonly gravity?: Gravity;
  /** Horizontal margin from the anchored edge, 0..4096 px (OSS `x`); ignored for north/center/south. Default 10. */
  readonly x?: number;
  /** Vertical margin from the anchored edge, 0..4096 px (OSS `y`); ignored for west/center/east. Default 10. */
  readonly y?: number;
  /**
   * Vertical shift for west/center/east, −1000..1000 px (OSS `voffset`). Positive moves the watermark
   * down (image coordinates); OSS does not document the direction.
   */
  readonly voffset?: number;
  /** Opacity of the text's drop shadow, 0..100 (OSS `shadow`); 0 draws none. Default 0. */
  readonly shadow?: number;
  /** Clockwise text rotation in degrees, 0..360 (OSS `rotate`). Default 0. */
  readonly rotate?: number;
  /** Tile the watermark over the whole image (OSS `fill`). Default false. */
  readonly fill?: boolean;
  /** Horizontal gap between tiles, 0..4096 px (OSS `padx`). Default 0. */
  readonly padx?: number;
  /** Vertical gap between tiles, 0..4096 px (OSS `pady`). Default 0. */
  readonly pady?: number;
  /** Logo: an image, or PNG/JPEG/WebP/GIF bytes (OSS `image`, which names an object in the bucket). */
  readonly image?: RGBAImage | Uint8Array | ArrayBuffer;
  /** Logo width as a percentage of the main image's width, 1..100 (OSS `P`). Default: the logo's own size. */
  readonly percent?: number;
  /** With text and logo: 0 puts the logo first (left of the text), 1 the text first (OSS `order`). Default 0. */
  readonly order?: 0 | 1;
  /** With text and logo: vertical alignment, 0 top, 1 centre, 2 bottom (OSS `align`). Default 2. */
  readonly align?: 0 | 1 | 2;
  /** With text and logo: the gap between them, 0..1000 px (OSS `interval`). Default 0. */
  readonly interval?: number;
}

/** Options after validation: defaults applied, colour parsed, frozen. */
export interface ResolvedWatermark {
  readonly text?: string;
  readonly font?: FontBytes;
  readonly color: readonly [number, number, number];
  readonly size: number;
  readonly opacity: number;
  readonly gravity: Gravity;
  readonly x: number;
  readonly y: number;
  readonly voffset: number;
  readonly shadow: number;
  readonly rotate: number;
  readonly fill: boolean;
  readonly padx: number;
  readonly pady: number;
  readonly image?: RGBAImage | Uint8Array | ArrayBuffer;
  readonly percent?: number;
  readonly order: 0 | 1;
  readonly align: 0 | 1 | 2;
  readonly interval: number;
}

/** OSS's cap on watermark text, in characters (code points). */
export const MAX_WATERMARK_TEXT = 64;

/**
 * The watermark's parameters by OSS name, with the typed option each one is: the x-oss-process
 * action is built from these rows, so typed options and process strings are refused with the same
 * words. `P` (logo width as a percentage of the main image) belongs to the logo's own preprocessing
 * in OSS (`resize,P_30`), so the action does not list it.
 */
export const WATERMARK_PARAMS = {
  t: { spec: int(0, 100), doc: 'opacity', default: 100, option: 'opacity' },
  g: { spec: gravity, doc: 'anchor', default: 'se', option: 'gravity' },
  x: { spec: int(0, 4096), doc: 'horizontal margin', default: 10 },
  y: { spec: int(0, 4096), doc: 'vertical margin', default: 10 },
  voffset: { spec: int(-1000, 1000), doc: 'vertical shift for west/center/east', default: 0 },
  fill: { spec: flag, doc: 'tile over the whole image', default: false },
  padx: { spec: int(0, 4096), doc: 'horizontal spacing between tiles', default: 0 },
  pady: { spec: int(0, 4096), doc: 'vertical spacing between tiles', default: 0 },
  color: { spec: hex6, doc: 'text colour', default: Object.freeze([0, 0, 0] as const) as RGB },
  size: { spec: int(1, 1000), doc: 'font size, px', default: 40 },
  shadow: { spec: int(0, 100), doc: 'shadow opacity', default: 0 },
  rotate: { spec: int(0, 360), doc: 'text rotation, clockwise degrees', default: 0 },
  order: { spec: choice(0, 1), doc: '0 image above text, 1 text above image', default: 0 },
  align: { spec: choice(0, 1, 2), doc: 'text/image alignment: 0 top, 1 centre, 2 bottom', default: 2 },
  interval: { spec: int(0, 1000), doc: 'gap between text and image, px', default: 0 },
  P: { spec: int(1, 100), doc: 'logo width, percent of the main image', option: 'percent' },
} as const satisfies OpParams;

const P = WATERMARK_PARAMS;

/** Check every option (throwing ImgpipeError naming the parameter, its range and the value) and fill defaults. */
export function validateWatermark(options: WatermarkOptions): ResolvedWatermark {
  if (typeof options !== 'object' || options === null) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected watermark options (an object) but received ${describeValue(options)}`);
  }
  const { text, image, font } = options;
  if (text === undefined && image === undefined) {
    throw new ImgpipeError('MISSING_ARGUMENT', 'Expected watermark.text or watermark.image but received neither', { details: { param: 'text' } });
  }
  if (text !== undefined) {
    if (typeof text !== 'string') {
      throw new ImgpipeError('INVALID_ARGUMENT', `Expected a string of 1 to ${MAX_WATERMARK_TEXT} characters for watermark.text but received ${describeValue(text)}`, { details: { param: 'text' } });
    }
    const length = Array.from(text).length;
    if (length === 0 || length > MAX_WATERMARK_TEXT) {
      throw new ImgpipeError('INVALID_ARGUMENT', `Expected 1 to ${MAX_WATERMARK_TEXT} characters for watermark.text but received ${length} characters: ${describeValue(text)}`, {
        details: { param: 'text', received: length },
      });
    }
  }
  if (font !== undefined && !(font instanceof Uint8Array) && !(font instanceof ArrayBuffer)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected font bytes (Uint8Array or ArrayBuffer) for watermark.type (font) but received ${describeValue(font)}`, { details: { param: 'type' } });
  }
  if (image !== undefined && !(image instanceof Uint8Array) && !(image instanceof ArrayBuffer) && !isImage(image)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an RGBA image or image bytes for watermark.image but received ${describeValue(image)}`, { details: { param: 'image' } });
  }
  // Each parameter under its typed option's name, checked by its spec; defaults filled, `percent` may stay unset.
  const checked = Object.entries(P).map(([name, param]: [string, OpParam<unknown>]) => {
    const option = param.option ?? name;
    const value = (options as Record<string, unknown>)[option];
    return [option, value === undefined && param.default === undefined ? undefined : checkOption('watermark', name, param, value)];
  });
  return Object.freeze({ text, font, image, ...Object.fromEntries(checked) }) as ResolvedWatermark;
}

function isImage(v: unknown): v is RGBAImage {
  if (typeof v !== 'object' || v === null) return false;
  const { width, height, data } = v as Partial<RGBAImage>;
  return Number.isInteger(width) && Number.isInteger(height) && data instanceof Uint8ClampedArray && data.length === width! * height! * 4;
}

/** Shadow offset, down and right: 1/20 of the size (2 px at the default 40 px), at least 1 px. */
export function shadowOffset(size: number): number {
  return Math.max(1, Math.round(size / 20));
}

/**
 * A watermark that is drawn only where it is needed: its full size, and any rectangle of it as RGBA.
 * A mark can be far larger than the image it lands on (64 characters at size 1000 turned 45 degrees
 * is a 41 000 px square, 6.7 GB of RGBA), and OSS clips it to the image: so the image decides what
 * is drawn, and no buffer here is ever larger than the part of the image the mark covers.
 */
interface Stamp {
  readonly width: number;
  readonly height: number;
  /** The pixels of `window` (inside 0..width × 0..height), unpremultiplied RGBA. */
  draw(window: PixelWindow): RGBAImage;
}

/** The text: colour with coverage as alpha, over its drop shadow (offset down and right) if any. */
function textStamp(text: string, fonts: readonly LoadedFont[], o: ResolvedWatermark): Stamp {
  const off = o.shadow > 0 ? shadowOffset(o.size) : 0;
  const box = measureText(text, o.size, fonts, o.rotate);
  const [r, g, b] = o.color;
  const shadowAlpha = o.shadow / 100;
  return {
    width: box.width + off,
    height: box.height + off,
    draw(win) {
      // The shadow of a pixel is the text `off` up and left of it: draw that much more of the text.
      const mask = renderText(text, o.size, fonts, o.rotate, { left: win.left - off, top: win.top - off, width: win.width + off, height: win.height + off });
      const mx = mask.left - box.left, my = mask.top - box.top;
      const cover = (x: number, y: number) => {
        const u = x - mx, v = y - my;
        return u >= 0 && v >= 0 && u < mask.width && v < mask.height ? mask.data[v * mask.width + u] / 255 : 0;
      };
      const stamp = createImage(win.width, win.height);
      const d = stamp.data;
      for (let y = 0; y < win.height; y++) {
        for (let x = 0; x < win.width; x++) {
          const bx = win.left + x, by = win.top + y;
          const at = cover(bx, by);
          const as = off > 0 ? cover(bx - off, by - off) * shadowAlpha : 0;
          // Text over a black shadow: colour weighted by alpha (the shadow contributes black, i.e. zero).
          const out = at + as * (1 - at);
          if (out === 0) continue;
          const k = at / out;
          const i = (y * win.width + x) * 4;
          d[i] = r * k;
          d[i + 1] = g * k;
          d[i + 2] = b * k;
          d[i + 3] = out * 255;
        }
      }
      return stamp;
    },
  };
}

/** An image as a stamp (the logo): windows are copies of its rows. */
function imageStamp(image: RGBAImage): Stamp {
  return {
    width: image.width,
    height: image.height,
    draw(win) {
      if (win.left === 0 && win.top === 0 && win.width === image.width && win.height === image.height) return image;
      const out = createImage(win.width, win.height);
      for (let y = 0; y < win.height; y++) {
        const from = ((win.top + y) * image.width + win.left) * 4;
        out.data.set(image.data.subarray(from, from + win.width * 4), y * win.width * 4);
      }
      return out;
    },
  };
}

/** Logo and text side by side (OSS: order, align, interval), on a transparent canvas. */
function combine(logo: Stamp, text: Stamp, o: ResolvedWatermark): Stamp {
  const [first, second] = o.order === 0 ? [logo, text] : [text, logo];
  const width = first.width + o.interval + second.width;
  const height = Math.max(first.height, second.height);
  const top = (h: number) => (o.align === 0 ? 0 : o.align === 1 ? Math.floor((height - h) / 2) : height - h);
  const parts = [{ stamp: first, x: 0, y: top(first.height) }, { stamp: second, x: first.width + o.interval, y: top(second.height) }];
  return {
    width,
    height,
    draw(win) {
      const out = createImage(win.width, win.height);
      for (const { stamp, x, y } of parts) {
        const part = intersect(win.left - x, win.top - y, win.width, win.height, stamp.width, stamp.height);
        if (part) compositeOver(out, stamp.draw(part), x + part.left - win.left, y + part.top - win.top, 1);
      }
      return out;
    },
  };
}

/** The part of a w×h stamp inside a W×H area whose corner is at (-x, -y) in the stamp's pixels, if any. */
function intersect(x: number, y: number, W: number, H: number, w: number, h: number): PixelWindow | undefined {
  const left = Math.max(0, x), top = Math.max(0, y);
  const right = Math.min(w, x + W), bottom = Math.min(h, y + H);
  return right > left && bottom > top ? { left, top, width: right - left, height: bottom - top } : undefined;
}

/** Top-left corner of a w×h watermark on a W×H image, per OSS's anchors and margins. */
export function placeWatermark(W: number, H: number, w: number, h: number, o: Pick<ResolvedWatermark, 'gravity' | 'x' | 'y' | 'voffset'>): { x: number; y: number } {
  const { col, row } = gravityCell(o.gravity);
  const x = col === 0 ? o.x : col === 2 ? W - w - o.x : Math.floor((W - w) / 2);
  const y = row === 0 ? o.y : row === 2 ? H - h - o.y : Math.floor((H - h) / 2) + o.voffset;
  return { x, y };
}

/** The fonts for `text`: the caller's first, then the embedded Latin font for what it lacks. */
async function fontChain(font: FontBytes | undefined): Promise<LoadedFont[]> {
  const fallback = await defaultFont();
  return font === undefined ? [fallback] : [await loadFont(font, 'watermark.type (font)'), fallback];
}

/** The watermark itself (text, logo, or both side by side), before opacity and placement. */
async function watermarkStamp(mainWidth: number, o: ResolvedWatermark): Promise<Stamp> {
  const text = o.text !== undefined ? textStamp(o.text, await fontChain(o.font), o) : undefined;
  const logo = o.image !== undefined ? imageStamp(await loadLogo(o.image, mainWidth, o.percent)) : undefined;
  if (text && logo) return combine(logo, text, o);
  return (text ?? logo)!;
}

/**
 * The rectangles of the stamp to draw, and where: one per tile that meets the image (one tile without
 * `fill`), each cut to the image. Every window is at most the image's size, and as tiles never overlap
 * (the steps are at least the stamp's size) their areas add up to at most the image's area plus one
 * stamp per row and column of tiles: the bound on what a watermark allocates and draws.
 */
export function stampWindows(W: number, H: number, w: number, h: number, o: Pick<ResolvedWatermark, 'gravity' | 'x' | 'y' | 'voffset' | 'fill' | 'padx' | 'pady'>): { x: number; y: number; window: PixelWindow }[] {
  const at = placeWatermark(W, H, w, h, o);
  const tile = (x: number, y: number) => {
    const window = intersect(-x, -y, W, H, w, h);
    return window ? [{ x: x + window.left, y: y + window.top, window }] : [];
  };
  if (!o.fill) return tile(at.x, at.y);
  // Tiles on a grid through the anchored position, far enough in every direction to cover the image.
  const stepX = w + o.padx, stepY = h + o.pady;
  const startX = at.x - Math.ceil((at.x + w) / stepX) * stepX;
  const startY = at.y - Math.ceil((at.y + h) / stepY) * stepY;
  const out: { x: number; y: number; window: PixelWindow }[] = [];
  for (let ty = startY; ty < H; ty += stepY) {
    for (let tx = startX; tx < W; tx += stepX) out.push(...tile(tx, ty));
  }
  return out;
}

/**
 * Watermark `image` (never modified; a new image is returned). Throws ImgpipeError INVALID_ARGUMENT
 * or MISSING_ARGUMENT for bad options, and the decoder's errors for bad logo bytes.
 */
export async function watermark(image: RGBAImage, options: WatermarkOptions): Promise<RGBAImage> {
  const o = validateWatermark(options);
  const out: RGBAImage = { width: image.width, height: image.height, data: new Uint8ClampedArray(image.data) };
  if (o.opacity === 0) return out;
  const stamp = await watermarkStamp(image.width, o);
  const alpha = o.opacity / 100;
  const windows = stampWindows(image.width, image.height, stamp.width, stamp.height, o);
  // A stamp no larger than the image is drawn once and reused by every tile; a larger one only where
  // each tile shows it.
  const whole = o.fill && stamp.width * stamp.height <= image.width * image.height
    ? stamp.draw({ left: 0, top: 0, width: stamp.width, height: stamp.height }) : undefined;
  for (const { x, y, window } of windows) {
    if (whole) compositeOver(out, whole, x - window.left, y - window.top, alpha);
    else compositeOver(out, stamp.draw(window), x, y, alpha);
  }
  return out;
}
