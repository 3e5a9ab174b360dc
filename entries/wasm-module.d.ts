/** workerd and Workers bundlers import `.wasm` files as compiled modules (see entries/workerd.ts). */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
