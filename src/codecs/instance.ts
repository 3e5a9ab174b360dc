/** Moved to src/wasm/instance.ts; kept for the blind watermark's embedding (src/ops/blindmark/embed.ts), which imports it here. */
export { outOfMemory } from '../wasm/instance.js';
