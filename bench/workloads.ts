/**
 * What the benchmark runs: the upload recipe on two real photos, and two single transforms. Every
 * competitor gets the same input bytes and is asked for the same outputs (width, format, quality),
 * so times, bytes and SSIM are comparable row by row.
 */

export type OutputFormat = 'jpeg' | 'webp';

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

export type InputId = 'photo' | 'elephants';

export const EXTENSIONS: Readonly<Record<OutputFormat, string>> = Object.freeze({ jpeg: 'jpg', webp: 'webp' });

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

/** All workloads, in the order the table prints them. */
export function workloads(options: { watermark: boolean }): readonly Workload[] {
  return Object.freeze([
    { id: 'recipe-photo', label: 'recipe, 2725x2225 photo', kind: 'recipe', input: 'photo', outputs: recipeOutputs(options.watermark) },
    { id: 'recipe-elephants', label: 'recipe, 5640x3172 photo', kind: 'recipe', input: 'elephants', outputs: recipeOutputs(options.watermark) },
    { id: 'jpeg-720-jpeg', label: 'JPEG -> 720px JPEG q80', kind: 'transform', input: 'photo', outputs: [transformOutput(720, 'jpeg', 80)] },
    { id: 'jpeg-720-webp', label: 'JPEG -> 720px WebP q80', kind: 'transform', input: 'photo', outputs: [transformOutput(720, 'webp', 80)] },
  ] satisfies Workload[]);
}
