/**
 * Browser and Web Worker entry: the whole public API, with a WASM provider that fetches the
 * package's `.wasm` files from beside this module (`dist/wasm/`). Bundlers that understand
 * `new URL(..., import.meta.url)` (Vite, webpack 5, Parcel) copy the files; a plain
 * `<script type="module">` from a static server fetches them directly. Bundlers that don't copy
 * such assets (esbuild) still work with no configuration: when the `.wasm` isn't there, the bytes
 * come from `dist/wasm/<file>.js`, a base64 copy imported lazily, which every bundler follows. Where
 * neither suits, call `init({ baseUrl })` or `init({ modules })`.
 */
import { ImgpipeError } from '../src/errors.js';
import { setWasmProvider } from '../src/wasm/modules.js';

export * from '../src/index.js';

const WASM_MAGIC: readonly number[] = [0x00, 0x61, 0x73, 0x6d];

/**
 * The file beside the module, or undefined when it isn't served there. The magic number is checked
 * because many static hosts answer a missing path with 200 and their index.html.
 */
async function fetchBeside(file: string): Promise<Uint8Array | undefined> {
  try {
    // `.wasm` spelled out so a bundler's asset glob (`./wasm/*.wasm`) copies only the modules.
    const res = await fetch(new URL(`./wasm/${file.replace(/\.wasm$/, '')}.wasm`, import.meta.url));
    if (!res.ok) return undefined;
    const bytes = new Uint8Array(await res.arrayBuffer());
    return WASM_MAGIC.every((b, i) => bytes[i] === b) ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The inlined copy, through `dist/wasm/inline.js` (written by the build from WASM_MODULES: one lazy
 * `import()` per module), so a splitting bundler puts each in its own chunk, loaded only when needed.
 */
async function inlined(file: string): Promise<Uint8Array> {
  // @ts-expect-error generated into dist/wasm/ by the build, beside the built entry
  const table = (await import('./wasm/inline.js')) as { default: Readonly<Record<string, () => Promise<{ default: string }>>> };
  const load = table.default[file];
  if (!load) throw new ImgpipeError('NOT_FOUND', `Expected ${file} in imgpipe's dist/wasm/inline.js but it lists ${Object.keys(table.default).join(', ')}`);
  return Uint8Array.from(atob((await load()).default), (c) => c.charCodeAt(0));
}

setWasmProvider(async (_name, file) => (await fetchBeside(file)) ?? inlined(file));
