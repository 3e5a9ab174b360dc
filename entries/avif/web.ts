/**
 * `imgpipe/avif` in browsers and Web Workers: importing it enables AVIF decoding and encoding. Its
 * modules (`dist/wasm/plugins/avif_dec.wasm`, 1.2 MB, and `avif_enc.wasm`, 3.5 MB) are fetched from
 * beside this file when the first AVIF is read or written; bundlers that understand
 * `new URL(..., import.meta.url)` copy them. Elsewhere, make your own with
 * `createAvifPlugin({ decoder: url, encoder: url })` and pass it to `init({ plugins })`.
 */
import { createAvifPlugin } from '../../src/codecs/avif.js';
import { registerPlugin } from '../../src/plugins.js';

export { createAvifPlugin, type AvifPluginOptions } from '../../src/codecs/avif.js';

export const avif = createAvifPlugin({
  decoder: () => new URL('./wasm/plugins/avif_dec.wasm', import.meta.url),
  encoder: () => new URL('./wasm/plugins/avif_enc.wasm', import.meta.url),
});
registerPlugin(avif);
