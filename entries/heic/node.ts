/**
 * `imgpipe/heic` in Node: importing it enables HEIC decoding (libheif + libde265, LGPL, in their own
 * WebAssembly module, read from `dist/wasm/plugins/imgpipe_heif.wasm` beside this file on first use).
 * `heic` is the plug-in itself, for `init({ plugins: [heic] })`.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHeicPlugin } from '../../src/codecs/heic.js';
import { registerPlugin, threadEntry, type DecoderPlugin } from '../../src/plugins.js';

export { createHeicPlugin, type HeicPluginOptions } from '../../src/codecs/heic.js';

const here = import.meta.url;

/** Beside the bundle (dist/wasm/plugins/), else the source tree's build (tests run from source). */
function locate(): string {
  const bundled = fileURLToPath(new URL('./wasm/plugins/imgpipe_heif.wasm', here));
  return existsSync(bundled) ? bundled : fileURLToPath(new URL('../../wasm/libheif/build/imgpipe_heif.wasm', here));
}

export const heic: DecoderPlugin = Object.freeze({ ...createHeicPlugin({ wasm: () => readFile(locate()) }), threadEntry: threadEntry(here, 'heic') });
registerPlugin(heic);
