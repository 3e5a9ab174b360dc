/**
 * Browser and Web Worker entry: the whole public API, with a WASM provider that fetches the
 * package's `.wasm` files from beside this module (`dist/wasm/`). Bundlers that understand
 * `new URL(..., import.meta.url)` (Vite, webpack 5, Parcel) copy the files; a plain
 * `<script type="module">` from a static server fetches them directly. Where neither works,
 * call `init({ baseUrl })` or `init({ modules })`.
 */
import { setWasmProvider } from '../src/wasm.js';

export * from '../src/index.js';

setWasmProvider(async (_name, file) => fetch(new URL(`./wasm/${file}`, import.meta.url)));
