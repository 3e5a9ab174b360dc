/**
 * `imgpipe/heic` in browsers and Web Workers: importing it enables HEIC decoding. The module
 * (`dist/wasm/plugins/imgpipe_heif.wasm`, ~0.9 MB) is fetched from beside this file when the first HEIC
 * arrives; bundlers that understand `new URL(..., import.meta.url)` copy it. Elsewhere, make your
 * own with `createHeicPlugin({ wasm: url })` and pass it to `init({ plugins })`.
 */
import { createHeicPlugin } from '../../src/codecs/heic.js';
import { registerPlugin } from '../../src/plugins.js';

export { createHeicPlugin, type HeicPluginOptions } from '../../src/codecs/heic.js';

export const heic = createHeicPlugin({ wasm: () => new URL('./wasm/plugins/imgpipe_heif.wasm', import.meta.url) });
registerPlugin(heic);
