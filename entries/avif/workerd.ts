/**
 * `imgpipe/avif` in workerd / Cloudflare Workers: importing it enables AVIF decoding and encoding.
 * Workers can't compile WebAssembly from bytes at run time, so the modules are imports the runtime
 * hands over compiled (`./wasm/plugins/avif_*.wasm` beside the built entry, as for the core's modules).
 */
import { createAvifPlugin } from '../../src/codecs/avif.js';
import { registerPlugin } from '../../src/plugins.js';
// Resolved beside the built entry (dist/wasm/plugins/), like the core's imports in entries/workerd.ts.
import decoderModule from './wasm/plugins/avif_dec.wasm';
import encoderModule from './wasm/plugins/avif_enc.wasm';

export { createAvifPlugin, type AvifPluginOptions } from '../../src/codecs/avif.js';

export const avif = createAvifPlugin({ decoder: decoderModule, encoder: encoderModule });
registerPlugin(avif);
