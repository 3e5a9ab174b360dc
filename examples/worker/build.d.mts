import type { BuildOptions, LogLevel } from 'esbuild';

export function workerBundleOptions(options: { entry: string; outfile: string; onWasm?: (file: string) => void; logLevel?: LogLevel }): BuildOptions;
export function buildWorker(outdir?: string): Promise<{ script: string; outdir: string }>;
