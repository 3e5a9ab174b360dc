/** workerd and Workers bundlers import `.wasm` files as compiled modules (see wasm/workerd.ts). */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
