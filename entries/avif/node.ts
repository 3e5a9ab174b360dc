/**
 * `imgpipe/avif` in Node: importing it enables AVIF decoding and encoding (libavif + libaom from
 * @jsquash/avif, in their own WebAssembly modules, read from `dist/wasm/plugins/` beside this file on
 * first use). `avif` is the plug-in itself, for `init({ plugins: [avif] })`.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createAvifPlugin } from '../../src/codecs/avif.js';
import { registerPlugin, threadEntry, type DecoderPlugin } from '../../src/plugins.js';

export { createAvifPlugin, type AvifPluginOptions } from '../../src/codecs/avif.js';

const here = import.meta.url;

/** Beside the bundle (dist/wasm/plugins/), else the package's own file (tests run from source). */
function locate(file: string, from: string): string {
  const bundled = fileURLToPath(new URL(`./wasm/plugins/${file}`, here));
  return existsSync(bundled) ? bundled : createRequire(here).resolve(from);
}

export const avif: DecoderPlugin = Object.freeze({
  ...createAvifPlugin({
    decoder: () => readFile(locate('avif_dec.wasm', '@jsquash/avif/codec/dec/avif_dec.wasm')),
    encoder: () => readFile(locate('avif_enc.wasm', '@jsquash/avif/codec/enc/avif_enc.wasm')),
  }),
  threadEntry: threadEntry(here, 'avif'),
});
registerPlugin(avif);
