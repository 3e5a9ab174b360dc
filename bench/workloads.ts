/**
 * What the benchmark runs: the upload recipe and the single 720 px transforms (JPEG and WebP out) on
 * every source kind an upload service sees (baseline, progressive and phone JPEGs, PNG graphics and
 * photos, lossy and lossless WebP), and a PNG-to-PNG transform for the PNG encoder. Every
 * competitor gets the same input bytes and is asked for the same outputs (width, format, quality),
 * so times, bytes and SSIM are comparable row by row.
 */

export type OutputFormat = 'jpeg' | 'webp' | 'png';

export interface OutputSpec {
  /** File name of the output inside a run's directory, e.g. `large.jpg`. */
  readonly name: string;
  /** Recipe size name (`large`, `medium`, `thumb`) or the transform's width as text. */
  readonly size: string;
  readonly width: number;
  readonly format: OutputFormat;
  readonly quality: number;
  /** Draw the text watermark on this output (only when the run has `--watermark`). */
  readonly watermark: boolean;
}

export interface Workload {
  readonly id: string;
  readonly label: string;
  readonly kind: 'recipe' | 'transform';
  readonly input: InputId;
  readonly outputs: readonly OutputSpec[];
}

/** Source kinds: two fixtures-derived photos and the inputs bench/inputs.ts derives from them. */
export type InputId = 'photo' | 'elephants' | 'phone' | 'png-photo' | 'png-graphic' | 'webp-lossy' | 'webp-lossless';

/** Source kinds in table order, with the short name the per-kind table uses. */
export const SOURCE_KINDS: Readonly<Record<InputId, string>> = Object.freeze({
  photo: 'baseline JPEG, 2725x2225 photo',
  elephants: 'progressive JPEG, 5640x3172 photo',
  phone: '12 MP phone JPEG, EXIF orientation 6',
  'png-photo': 'PNG photo (RGB), 2725x2225',
  'png-graphic': 'PNG graphic (RGBA), 3640x2048',
  'webp-lossy': 'WebP lossy, 4096x2304 photo',
  'webp-lossless': 'WebP lossless graphic, 3640x2048',
});

export const EXTENSIONS: Readonly<Record<OutputFormat, string>> = Object.freeze({ jpeg: 'jpg', webp: 'webp', png: 'png' });

/** The recipe's defaults as issue-level numbers: 1200/600/150 px wide, JPEG q85 + WebP q80. */
export const RECIPE_SIZES = Object.freeze([
  { size: 'large', width: 1200, watermark: true },
  { size: 'medium', width: 600, watermark: true },
  { size: 'thumb', width: 150, watermark: false },
] as const);

export const RECIPE_FORMATS = Object.freeze([
  { format: 'jpeg', quality: 85 },
  { format: 'webp', quality: 80 },
] as const);

function recipeOutputs(watermark: boolean): OutputSpec[] {
  return RECIPE_SIZES.flatMap((s) =>
    RECIPE_FORMATS.map((f) => ({
      name: `${s.size}.${EXTENSIONS[f.format]}`,
      size: s.size,
      width: s.width,
      format: f.format,
      quality: f.quality,
      watermark: watermark && s.watermark,
    })),
  );
}

function transformOutput(width: number, format: OutputFormat, quality: number): OutputSpec {
  return { name: `${width}.${EXTENSIONS[format]}`, size: String(width), width, format, quality, watermark: false };
}

/** All workloads, in the order the table prints them. The first four keep their ids from earlier runs. */
export function workloads(options: { watermark: boolean }): readonly Workload[] {
  const kinds = Object.keys(SOURCE_KINDS).filter((k) => k !== 'photo' && k !== 'elephants') as InputId[];
  return Object.freeze([
    { id: 'recipe-photo', label: 'recipe, 2725x2225 photo', kind: 'recipe', input: 'photo', outputs: recipeOutputs(options.watermark) },
    { id: 'recipe-elephants', label: 'recipe, 5640x3172 photo', kind: 'recipe', input: 'elephants', outputs: recipeOutputs(options.watermark) },
    { id: 'jpeg-720-jpeg', label: 'JPEG -> 720px JPEG q80', kind: 'transform', input: 'photo', outputs: [transformOutput(720, 'jpeg', 80)] },
    { id: 'jpeg-720-webp', label: 'JPEG -> 720px WebP q80', kind: 'transform', input: 'photo', outputs: [transformOutput(720, 'webp', 80)] },
    { id: 'elephants-720-jpeg', label: 'progressive JPEG -> 720px JPEG q80', kind: 'transform', input: 'elephants', outputs: [transformOutput(720, 'jpeg', 80)] },
    { id: 'elephants-720-webp', label: 'progressive JPEG -> 720px WebP q80', kind: 'transform', input: 'elephants', outputs: [transformOutput(720, 'webp', 80)] },
    ...kinds.flatMap((k): Workload[] => [
      { id: `recipe-${k}`, label: `recipe, ${SOURCE_KINDS[k]}`, kind: 'recipe', input: k, outputs: recipeOutputs(options.watermark) },
      { id: `${k}-720-jpeg`, label: `${SOURCE_KINDS[k]} -> 720px JPEG q80`, kind: 'transform', input: k, outputs: [transformOutput(720, 'jpeg', 80)] },
      { id: `${k}-720-webp`, label: `${SOURCE_KINDS[k]} -> 720px WebP q80`, kind: 'transform', input: k, outputs: [transformOutput(720, 'webp', 80)] },
    ]),
    { id: 'png-graphic-720-png', label: `${SOURCE_KINDS['png-graphic']} -> 720px PNG`, kind: 'transform', input: 'png-graphic', outputs: [transformOutput(720, 'png', 100)] },
  ] satisfies Workload[]);
}
