/**
 * Opt-in decoders that live outside the core bundle. HEIC decoding is one: libheif and libde265 are
 * LGPL and ~0.9 MB of WebAssembly, so they ship as their own module and subpath (`imgpipe/heic`),
 * loaded only by a caller who enables them (`import 'imgpipe/heic'`, or `init({ plugins })`).
 *
 * The registry is kept on `globalThis` under a registered symbol, not in this module's scope: a page
 * or bundle may hold two copies of imgpipe's core (the standalone build and a bundled one, or the
 * ESM and CommonJS builds), and a plug-in registered through either must serve both.
 */
import { ImgpipeError } from './errors.js';
import { FORMATS, type FormatId } from './formats.js';
import type { ImageHeader } from './header.js';
import type { RGBAImage } from './image.js';

export interface DecoderPlugin {
  /** Its name, as its subpath says it (`heic`). */
  readonly name: string;
  /** The formats it decodes (rows of FORMATS with `plugin` set). */
  readonly formats: readonly FormatId[];
  /** Non-premultiplied 8-bit RGBA, upright, in the file's own colour space (imgpipe converts it to sRGB). */
  decode(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage>;
}

const KEY = Symbol.for('imgpipe.plugins');
const registry = ((globalThis as Record<symbol, unknown>)[KEY] ??= new Map<FormatId, DecoderPlugin>()) as Map<FormatId, DecoderPlugin>;

/** Make `plugin` the decoder of its formats in this runtime (idempotent). */
export function registerPlugin(plugin: DecoderPlugin): void {
  if (typeof plugin !== 'object' || plugin === null || typeof plugin.decode !== 'function' || !Array.isArray(plugin.formats)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a plug-in such as the one 'imgpipe/heic' exports but received ${plugin === null ? 'null' : typeof plugin}`);
  }
  for (const f of plugin.formats) registry.set(f, plugin);
}

/** The plug-in registered for `format`, or a refusal that says how to enable one. */
export function requirePlugin(format: FormatId): DecoderPlugin {
  const plugin = registry.get(format);
  if (plugin) return plugin;
  const { name, plugin: subpath } = FORMATS[format];
  throw new ImgpipeError(
    'UNSUPPORTED_FORMAT',
    `Expected a format imgpipe decodes but received a ${name} file, which needs the opt-in ${name} plug-in: import '${subpath}' once (or pass it to init({ plugins }))`,
    { details: { received: name, plugin: subpath } },
  );
}
