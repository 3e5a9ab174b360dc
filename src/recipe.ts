/**
 * The upload recipe: which variants an upload becomes, as plain data, and the engine that runs it.
 * The engine decodes once and derives every variant from that one image: each size is resized from
 * the nearest larger un-watermarked size (cheaper than from the original, and visually the same:
 * every step is a Lanczos3 downscale by at least 2x in the default recipe), then watermarked if its
 * size asks for it, then encoded once per output format.
 */
import { ImgpipeError, describeValue, isImgpipeError } from './errors.js';
import { FORMATS, writableRows, type OutputFormat } from './formats.js';
import type { RGBAImage } from './image.js';
import type { Limits } from './limits.js';
import { inspect, toBytes } from './decode.js';
import { decodeResized, type RowHelper } from './decode-resized.js';
import { failOnLevel, type FailOn } from './fail-on.js';
import { uprightSize, type ImageHeader } from './header.js';
import { encode, type Encoder } from './encode.js';
import { SIDE, resize, resizeTarget } from './ops/resize.js';
import { QUALITY } from './spec.js';
import { throwIfAborted } from './pipeline.js';
import { prefetchWasm } from './wasm/modules.js';
import { watermark, type WatermarkOptions } from './ops/watermark.js';
import { embedBlindWatermark, type BlindWatermarkStrength } from './ops/blind-watermark.js';
import { dominantColor, thumbhash } from './ops/thumbhash.js';
import { recycleResized } from './kernels/lanczos.js';

export interface RecipeSize {
  /** Name used in output keys (`{size}`), e.g. `large`. */
  readonly name: string;
  /** Target width in px; the height follows the aspect ratio. Never enlarged. */
  readonly width: number;
  /** Whether this size carries the recipe's watermark. */
  readonly watermark: boolean;
}

export interface RecipeOutput {
  readonly format: OutputFormat;
  /** 1..100. Default: the format's own (its registry row's `defaultQuality`: JPEG 85, WebP 80, AVIF 50). */
  readonly quality?: number;
  /**
   * Output key template. Placeholders: `{size}` (size name), `{name}` (source key without its
   * extension, folders kept, so two uploads never collide), `{base}` (file name without extension),
   * `{dir}` (folder of the source key, with trailing slash, or empty), `{ext}` (this format's extension).
   */
  readonly key: string;
  /** JPEG only. */
  readonly progressive?: boolean;
  /** WebP and AVIF (with imgpipe/avif) only. */
  readonly lossless?: boolean;
}

/**
 * Watermark settings carried by the recipe: any option of `watermark()` (text, font, colour,
 * opacity, gravity, margins, shadow, logo...). When `size` is omitted the text scales with each
 * variant: width / 30, at least 20 px.
 */
export type RecipeWatermark = WatermarkOptions;

/**
 * The invisible mark put into every size that carries the watermark, after its resize and visible
 * watermark, just before encoding. `content` is a template: `{key}` (the source key), `{name}`, `{base}`,
 * `{dir}` as in output keys, and `{meta:NAME}` for the upload's user metadata `x-oss-meta-NAME` (e.g. the
 * uploader's id). Up to 8 bytes of UTF-8 go in the pixels; longer text is embedded as an ID, and the
 * result (and the FC manifest) records both, so the manifest is the registry that resolves it.
 */
export interface RecipeBlindWatermark {
  readonly content: string;
  readonly strength?: BlindWatermarkStrength;
  readonly key?: string;
}

export interface Recipe {
  readonly sizes: readonly RecipeSize[];
  readonly outputs: readonly RecipeOutput[];
  readonly watermark?: RecipeWatermark;
  readonly blindWatermark?: RecipeBlindWatermark;
  /** Resample in linear light (see `ResizeOptions.linear`). Default false, like sharp and OSS. */
  readonly linear?: boolean;
  /**
   * Decode a JPEG straight at 1/2, 1/4 or 1/8 when the largest size still fits (libjpeg's DCT
   * scaling, sharp's `fastShrinkOnLoad`). Default true: several times faster and smaller, at the
   * same quality cost as sharp's default; false decodes at full size first. Off with `linear`.
   */
  readonly fastShrinkOnLoad?: boolean;
  /** How much damage in the source to tolerate (`decode`'s `failOn`; default `warning`, as sharp's). */
  readonly failOn?: FailOn;
  /** `Cache-Control` for outputs written by storage adapters. */
  readonly cacheControl?: string;
}

export const DEFAULT_RECIPE: Recipe = deepFreeze({
  sizes: [
    { name: 'large', width: 1200, watermark: true },
    { name: 'medium', width: 600, watermark: true },
    { name: 'thumb', width: 150, watermark: false },
  ],
  outputs: [
    { format: 'jpeg', quality: 85, key: 'resized/{size}/{name}.jpg' },
    { format: 'webp', quality: 80, key: 'webp/{size}/{name}.webp' },
  ],
  // Lower-right, semi-transparent white with a soft shadow so it reads on light and dark photos.
  watermark: { text: '© imgpipe', color: 'FFFFFF', opacity: 60, shadow: 40, gravity: 'se', x: 20, y: 20 },
  cacheControl: 'public, max-age=31536000, immutable',
});

export interface Variant {
  /** Output object key. */
  readonly key: string;
  /** Size name from the recipe. */
  readonly size: string;
  readonly format: OutputFormat;
  readonly contentType: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: Uint8Array;
}

export interface RecipeResult {
  readonly source: { readonly key: string; readonly format: string; readonly width: number; readonly height: number; readonly bytes: number; readonly orientation: number };
  readonly variants: readonly Variant[];
  /** What a page paints before a variant loads, from the smallest size before its watermark (see ops/thumbhash.ts). */
  readonly placeholder: Placeholder;
  /** What the recipe's blind watermark embedded, when it has one. */
  readonly blindWatermark?: BlindWatermarkRecord;
}

export interface BlindWatermarkRecord {
  /** The text the marks stand for. */
  readonly content: string;
  /** 'text': the pixels carry it; 'id': they carry `id`, which this record resolves. */
  readonly carried: 'text' | 'id';
  readonly id?: string;
  readonly strength: BlindWatermarkStrength;
  /** Sizes that carry the mark. */
  readonly sizes: readonly string[];
  /** Sizes left unmarked, with why (too small, or narrower than 1:2). */
  readonly skipped: readonly { readonly size: string; readonly reason: string }[];
}

export interface Placeholder {
  /** ThumbHash, base64 (about 25 bytes). */
  readonly thumbhash: string;
  /** Dominant colour, CSS `#rrggbb`. */
  readonly dominantColor: string;
}

export interface ProcessUploadOptions {
  /** The source object key; output keys are derived from it. */
  readonly key: string;
  readonly recipe?: Recipe;
  readonly limits?: Partial<Limits>;
  readonly signal?: AbortSignal;
  /**
   * Where encodes run. Default: `encode`, in this thread. In Node, `createWorkerPool().encode` runs
   * them on worker threads: the engine then hands each variant's encodes over as soon as its pixels
   * are ready and goes on resizing the next size, so the encodes of one upload use every core.
   */
  readonly encoder?: Encoder;
  /**
   * Another thread that makes a share of the largest size's decode and resize when it is idle:
   * `createWorkerPool().decodeHelper` (Node). Default: none, the whole decode runs in this thread.
   */
  readonly decodeHelper?: RowHelper;
  /** The upload's user metadata (`x-oss-meta-*`, with or without the prefix), for `{meta:NAME}` in the blind watermark's content. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Run the recipe and return the variants (see `runRecipe` for source details too). */
export async function processUpload(bytes: Uint8Array | ArrayBuffer, options: ProcessUploadOptions): Promise<Variant[]> {
  return [...(await runRecipe(bytes, options)).variants];
}

export async function runRecipe(input: Uint8Array | ArrayBuffer, options: ProcessUploadOptions): Promise<RecipeResult> {
  const recipe = validateRecipe(options.recipe ?? DEFAULT_RECIPE);
  if (typeof options.key !== 'string' || options.key.length === 0) {
    throw new ImgpipeError('MISSING_ARGUMENT', `Expected a non-empty source key for processUpload.key but received ${describeValue(options.key)}`);
  }
  const bytes = toBytes(input);
  throwIfAborted(options.signal);
  // Every size's dimensions come from the upright source, so they don't depend on how it is decoded.
  const header = inspect(bytes, options.limits, recipe.failOn);
  prefetchWasm(['kernels', ...FORMATS[header.format].wasm, ...recipe.outputs.flatMap((o) => FORMATS[o.format].wasm)]);
  const { width: sourceWidth, height: sourceHeight } = uprightSize(header);
  // Largest first, so each size can be derived from the previous (larger) one.
  const sizes = [...recipe.sizes].sort((a, b) => b.width - a.width);
  const targets = sizes.map((size) => resizeTarget(sourceWidth, sourceHeight, { width: size.width }));
  // DCT scaling averages gamma-encoded values, which is exactly what a linear-light resize avoids.
  const shrinkTo = recipe.fastShrinkOnLoad === false || recipe.linear === true ? undefined : targets[0];
  const encoder = options.encoder ?? encode;
  const pending: Promise<Variant>[] = [];
  let previous: RGBAImage | undefined;
  /** Every size's resize result, given back to the kernel once its encodes have settled. */
  const bases: RGBAImage[] = [];
  let placeholder: Placeholder | undefined;
  const blind = recipe.blindWatermark
    ? { content: blindContent(recipe.blindWatermark.content, options.key, options.metadata), strength: recipe.blindWatermark.strength ?? 'medium', sizes: [] as string[], skipped: [] as { size: string; reason: string }[], carried: 'text' as 'text' | 'id', id: undefined as string | undefined }
    : undefined;
  try {
    for (const [i, size] of sizes.entries()) {
      throwIfAborted(options.signal);
      // The largest size straight from the file (a JPEG's rows go from the decoder to the resize
      // kernel as they come; a pool's idle worker takes a share), each smaller one from the size before.
      const base = previous === undefined
        ? await decodeResized(bytes, header, targets[i], { shrinkTo, linear: recipe.linear, helper: options.decodeHelper, failOn: recipe.failOn })
        : await resize(previous, { ...targets[i], fit: 'fill', linear: recipe.linear });
      previous = base;
      bases.push(base);
      let image = size.watermark && recipe.watermark ? await applyRecipeWatermark(base, recipe.watermark) : base;
      if (blind && size.watermark) image = await applyBlindWatermark(image, recipe.blindWatermark!, blind, size.name);
      for (const out of recipe.outputs) {
        // Not awaited here: with a pooled encoder this size's encodes run while the next size is resized.
        const variant = encodeVariant(encoder, image, out, size.name, options.key);
        // Its failure is reported by the Promise.all below; until then it must not count as unhandled.
        variant.catch(() => undefined);
        pending.push(variant);
      }
    }
    // The smallest size, un-watermarked, is already in memory: the placeholders cost ~1 ms from it,
    // while its encodes run.
    placeholder = Object.freeze({ thumbhash: await thumbhash(previous!), dominantColor: dominantColor(previous!) });
  } finally {
    // Every encode that started is settled before returning or throwing, so none outlives the run.
    await Promise.allSettled(pending);
    // Encoded (an encoder reads its image during its call and keeps none of it), the sizes' pixels
    // are dropped: the next upload of the same dimensions resizes into the same buffers instead of
    // fresh ones whose pages are all touched for the first time again.
    for (const base of bases) recycleResized(base);
  }
  throwIfAborted(options.signal);
  const variants = await Promise.all(pending);
  const blindWatermark = blind && Object.freeze({
    content: blind.content, carried: blind.carried, ...(blind.id !== undefined ? { id: blind.id } : {}), strength: blind.strength,
    sizes: Object.freeze(blind.sizes), skipped: Object.freeze(blind.skipped),
  });
  return Object.freeze({
    source: sourceInfo(options.key, header, sourceWidth, sourceHeight, bytes.byteLength), variants: Object.freeze(variants), placeholder: placeholder!,
    ...(blindWatermark ? { blindWatermark } : {}),
  });
}

/** The blind watermark's content for one upload: the template filled from the key and the user metadata. */
function blindContent(template: string, sourceKey: string, metadata: Readonly<Record<string, string>> = {}): string {
  const slash = sourceKey.lastIndexOf('/'), file = sourceKey.slice(slash + 1), dot = file.lastIndexOf('.');
  const base = dot > 0 ? file.slice(0, dot) : file, dir = slash >= 0 ? sourceKey.slice(0, slash + 1) : '';
  const values: Record<string, string> = { key: sourceKey, name: dir + base, base, dir };
  return template.replace(/\{(meta:)?([\w-]+)\}/g, (m, meta: string | undefined, k: string) => {
    if (!meta) return values[k] ?? m;
    const v = metadata[k] ?? metadata[k.toLowerCase()] ?? metadata[`x-oss-meta-${k.toLowerCase()}`];
    if (v === undefined) {
      throw new ImgpipeError('INVALID_ARGUMENT', `Expected user metadata x-oss-meta-${k.toLowerCase()} for {meta:${k}} in recipe.blindWatermark.content but received an upload without it`);
    }
    return v;
  });
}

/** Mark one variant; a size the mark can't live in (under 80 px, narrower than 1:2) is left unmarked and recorded. */
async function applyBlindWatermark(
  image: RGBAImage, options: RecipeBlindWatermark,
  record: { content: string; strength: BlindWatermarkStrength; sizes: string[]; skipped: { size: string; reason: string }[]; carried: 'text' | 'id'; id?: string },
  size: string,
): Promise<RGBAImage> {
  try {
    const marked = await embedBlindWatermark(image, { content: record.content, strength: record.strength, key: options.key, longContent: 'id' });
    record.sizes.push(size);
    record.carried = marked.carried;
    record.id = marked.id;
    return { width: marked.width, height: marked.height, data: marked.data };
  } catch (e) {
    if (!isImgpipeError(e, 'INVALID_ARGUMENT') || (e.details as { parameter?: string } | undefined)?.parameter !== 'image') throw e;
    record.skipped.push({ size, reason: e.message });
    return image;
  }
}

async function encodeVariant(encoder: Encoder, image: RGBAImage, out: RecipeOutput, size: string, sourceKey: string): Promise<Variant> {
  const bytes = await encoder(image, out.format, { quality: out.quality, progressive: out.progressive, lossless: out.lossless });
  return Object.freeze({
    key: outputKey(out.key, sourceKey, size, out.format),
    size,
    format: out.format,
    contentType: FORMATS[out.format].mime,
    width: image.width,
    height: image.height,
    bytes,
  });
}

function sourceInfo(key: string, h: ImageHeader, width: number, height: number, size: number): RecipeResult['source'] {
  return Object.freeze({ key, format: h.format, width, height, bytes: size, orientation: h.orientation });
}

/** Watermark one variant; the text size follows the variant's width unless the recipe fixes it. */
function applyRecipeWatermark(image: RGBAImage, options: RecipeWatermark): Promise<RGBAImage> {
  const size = options.size ?? Math.max(20, Math.round(image.width / 30));
  return watermark(image, { ...options, size });
}

/** Fill a key template for one variant. */
export function outputKey(template: string, sourceKey: string, size: string, format: OutputFormat): string {
  const slash = sourceKey.lastIndexOf('/');
  const dir = slash >= 0 ? sourceKey.slice(0, slash + 1) : '';
  const file = sourceKey.slice(slash + 1);
  const dot = file.lastIndexOf('.');
  const base = dot > 0 ? file.slice(0, dot) : file;
  const values: Record<string, string> = { size, name: dir + base, base, dir, ext: FORMATS[format].extension };
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}

/** Check a caller's recipe once, with messages that name the offending field. */
export function validateRecipe(recipe: Recipe): Recipe {
  const bad = (field: string, expected: string, v: unknown) =>
    new ImgpipeError('INVALID_ARGUMENT', `Expected ${expected} for recipe.${field} but received ${describeValue(v)}`);
  if (!recipe || !Array.isArray(recipe.sizes) || recipe.sizes.length === 0) throw bad('sizes', 'a non-empty array of sizes', recipe?.sizes);
  if (!Array.isArray(recipe.outputs) || recipe.outputs.length === 0) throw bad('outputs', 'a non-empty array of outputs', recipe.outputs);
  const names = new Set<string>();
  recipe.sizes.forEach((s, i) => {
    if (typeof s?.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(s.name)) throw bad(`sizes[${i}].name`, 'a name of 1-64 letters, digits, _ or -', s?.name);
    if (names.has(s.name)) throw bad(`sizes[${i}].name`, 'a unique size name', s.name);
    names.add(s.name);
    if (SIDE.check(s.width) === undefined) throw bad(`sizes[${i}].width`, SIDE.expected, s.width);
  });
  for (const flag of ['linear', 'fastShrinkOnLoad'] as const) {
    if (recipe[flag] !== undefined && typeof recipe[flag] !== 'boolean') throw bad(flag, 'true or false', recipe[flag]);
  }
  failOnLevel(recipe.failOn, 'recipe.failOn');
  const bw = recipe.blindWatermark;
  if (bw !== undefined) {
    if (typeof bw?.content !== 'string' || bw.content.length === 0) throw bad('blindWatermark.content', 'a non-empty content template', bw?.content);
    if (bw.strength !== undefined && !['low', 'medium', 'high'].includes(bw.strength)) throw bad('blindWatermark.strength', "'low', 'medium' or 'high'", bw.strength);
    if (bw.key !== undefined && (typeof bw.key !== 'string' || bw.key.length === 0)) throw bad('blindWatermark.key', 'a non-empty key', bw.key);
  }
  recipe.outputs.forEach((o, i) => {
    const writable = writableRows().map((f) => f.id);
    if (!writable.includes(o?.format)) throw bad(`outputs[${i}].format`, `one of ${writable.join(', ')}`, o?.format);
    if (o.quality !== undefined && QUALITY.check(o.quality) === undefined) throw bad(`outputs[${i}].quality`, QUALITY.expected, o.quality);
    if (typeof o.key !== 'string' || !o.key.includes('{size}') || !/\{(name|base)\}/.test(o.key)) {
      throw bad(`outputs[${i}].key`, 'a key template containing {size} and {name} or {base}', o.key);
    }
  });
  return recipe;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.values(o).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}
