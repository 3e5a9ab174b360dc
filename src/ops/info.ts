/**
 * OSS's info: what an image is, as OSS answers it: every value a string wrapped in `{value}`.
 * FileSize and Format describe the source bytes; ImageWidth/ImageHeight the image at that point of
 * the chain. Of the EXIF tags, Orientation is reported (when the file has one).
 */
import { FORMATS, type FormatId } from '../formats.js';

export interface InfoInput {
  readonly fileSize: number;
  readonly format: FormatId;
  readonly width: number;
  readonly height: number;
  /** EXIF orientation 1..8 when the file carries the tag. */
  readonly orientation?: number;
}

export type InfoJson = Readonly<Record<string, { readonly value: string }>>;

export function info(input: InfoInput): InfoJson {
  const out: Record<string, { value: string }> = {
    FileSize: { value: String(input.fileSize) },
    Format: { value: FORMATS[input.format].oss.name },
    ImageHeight: { value: String(input.height) },
    ImageWidth: { value: String(input.width) },
  };
  if (input.orientation !== undefined) out.Orientation = { value: String(input.orientation) };
  return Object.freeze(out);
}
