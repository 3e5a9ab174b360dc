/**
 * `imgpipe/heic` in workerd / Cloudflare Workers: importing it enables HEIC decoding. Workers can't
 * compile WebAssembly from bytes at run time, so the module is an import the runtime hands over
 * compiled (`./wasm/plugins/imgpipe_heif.wasm` beside the built entry, as for the core's modules).
 */
import { createHeicPlugin } from '../../src/codecs/heic.js';
import { registerPlugin } from '../../src/plugins.js';
// Resolved beside the built entry (dist/wasm/plugins/), like the core's imports in entries/workerd.ts.
import heifModule from './wasm/plugins/imgpipe_heif.wasm';

export { createHeicPlugin, type HeicPluginOptions } from '../../src/codecs/heic.js';

export const heic = createHeicPlugin({ wasm: heifModule });
registerPlugin(heic);
