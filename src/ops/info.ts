/**
 * OSS's info: what an image is, as OSS answers it: every value a string wrapped in `{value}`.
 * FileSize and Format describe the source bytes; ImageWidth/ImageHeight the image at that point of
 * the chain. Of the EXIF tags, Orientation is reported (when the file has one).
 */
import type { FormatId } from '../formats.js';

export interface InfoInput {
  readonly fileSize: number;
  readonly format: FormatId;
  readonly width: number;
  readonly height: number;
  /** EXIF orientation 1..8 when the file carries the tag. */
  readonly orientation?: number;
}

export type InfoJson = Readonly<Record<string, { readonly value: string }>>;

/** OSS names JPEG "jpg". */
const OSS_FORMAT_NAME: Readonly<Record<FormatId, string>> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', heic: 'heic' };

export function info(input: InfoInput): InfoJson {
  const out: Record<string, { value: string }> = {
    FileSize: { value: String(input.fileSize) },
    Format: { value: OSS_FORMAT_NAME[input.format] },
    ImageHeight: { value: String(input.height) },
    ImageWidth: { value: String(input.width) },
  };
  if (input.orientation !== undefined) out.Orientation = { value: String(input.orientation) };
  return Object.freeze(out);
}
