/** The `wasm/<name>/asconfig.json` of every AssemblyScript project, relative to the package root. */
export function wasmProjects(): string[];
/** Build one project's release target; returns asc's output without its converge note, throws with it on failure. */
export function buildWasmProject(config: string): string;
