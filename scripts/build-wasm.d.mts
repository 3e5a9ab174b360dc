/** The `wasm/<name>/asconfig.json` of every AssemblyScript project, relative to the package root. */
export function wasmProjects(): string[];
