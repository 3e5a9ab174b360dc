/**
 * imgpipe itself. The recipe workloads call `processUpload` exactly as an FC handler would; the
 * single transforms call `transform` with the x-oss-process chain an HTTP request would carry. The built package
 * (`dist/`) is preferred when present, since that is what users deploy; otherwise the sources run
 * through tsx. The entry that was used is printed with the settings.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT_DIR } from '../inputs.js';
import { EXTENSIONS, type OutputFormat, type OutputSpec, type Workload } from '../workloads.js';
import type { BenchOutput, Competitor, PreparedRun, ThreadMode } from './types.js';

interface Variant {
  readonly size: string;
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: Uint8Array;
}
/** The slice of imgpipe's public API the benchmark uses, checked at load time. */
interface ImgpipeApi {
  processUpload(bytes: Uint8Array, options: { key: string; recipe?: unknown; encoder?: unknown; decodeHelper?: unknown }): Promise<readonly Variant[]>;
  createWorkerPool?(options?: { threads?: number }): { readonly threads: number; readonly encode: unknown; readonly decodeHelper?: unknown };
  transform(bytes: Uint8Array, process: string): Promise<{ bytes: Uint8Array; width: number; height: number }>;
  readonly DEFAULT_RECIPE?: Readonly<Record<string, unknown>>;
}

/**
 * Entry points in order of preference: the built package's Node entry (what users deploy), then the
 * Node runtime entry in the sources (which re-exports the whole core and registers the WASM file
 * provider). `IMGPIPE_ENTRY=<path relative to the project>` forces one.
 */
const ENTRIES = ['dist/node.js', 'dist/index.js', 'entries/node.ts'];

/** Newest modification time of any source file under the given folders (recursively). */
function newestSource(dirs: readonly string[]): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|wasm)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(join(ROOT_DIR, d))) walk(join(ROOT_DIR, d));
  return newest;
}

/**
 * Which entry to benchmark, and why. A `dist/` older than the sources would benchmark yesterday's
 * code and mislead whoever is optimising today's, so it is only used while it is up to date.
 */
export function chooseEntry(): { entry: string; why: string } {
  const forced = process.env.IMGPIPE_ENTRY;
  if (forced) return { entry: forced, why: 'IMGPIPE_ENTRY' };
  const built = ENTRIES.filter((rel) => rel.startsWith('dist/') && existsSync(join(ROOT_DIR, rel)));
  const fresh = built.find((rel) => statSync(join(ROOT_DIR, rel)).mtimeMs >= newestSource(['src', 'entries', 'pool', 'wasm']));
  if (fresh) return { entry: fresh, why: 'built package, up to date with the sources' };
  const fallback = ENTRIES.find((rel) => !rel.startsWith('dist/')) ?? 'entries/node.ts';
  return { entry: fallback, why: built.length ? `sources via tsx: ${built[0]} is older than src/ (run the build to bench the package)` : 'sources via tsx: no build' };
}

async function loadApi(): Promise<{ api: ImgpipeApi; entry: string }> {
  const { entry, why } = chooseEntry();
  if (!existsSync(join(ROOT_DIR, entry))) throw new Error(`imgpipe not found at ${entry}`);
  // The child runs as plain JavaScript (see buildChild in bench/spawn.ts); only the sources need tsx's loader.
  if (entry.endsWith('.ts')) (await import('tsx/esm/api')).register();
  const mod = (await import(pathToFileURL(join(ROOT_DIR, entry)).href)) as Record<string, unknown>;
  const missing = ['processUpload', 'transform'].filter((name) => typeof mod[name] !== 'function');
  if (missing.length > 0) throw new Error(`imgpipe API incomplete in ${entry}: missing ${missing.join(', ')}`);
  return { api: mod as unknown as ImgpipeApi, entry: `${entry} (${why})` };
}

/**
 * The recipe to run: the default one, with its watermark removed unless the run asked for it, so
 * both sides of a comparison draw the same thing.
 */
function recipeFor(api: ImgpipeApi, watermark: boolean): Record<string, unknown> | undefined {
  if (watermark || !api.DEFAULT_RECIPE) return api.DEFAULT_RECIPE;
  const { watermark: _dropped, ...rest } = api.DEFAULT_RECIPE;
  return rest;
}

const FORMAT_BY_NAME: Readonly<Record<string, OutputFormat>> = Object.freeze({ jpeg: 'jpeg', jpg: 'jpeg', webp: 'webp', png: 'png' });

function outputName(v: Variant): string {
  const format = FORMAT_BY_NAME[v.format.toLowerCase()];
  return `${v.size}.${format ? EXTENSIONS[format] : v.format}`;
}

function checkRecipeOutputs(variants: readonly Variant[], outputs: readonly OutputSpec[]): BenchOutput[] {
  const byName = new Map(variants.map((v) => [outputName(v), v]));
  return outputs.map((spec) => {
    const v = byName.get(spec.name);
    if (!v) throw new Error(`processUpload produced no ${spec.name} (it produced ${[...byName.keys()].join(', ')})`);
    return { name: spec.name, bytes: v.bytes, width: v.width, height: v.height };
  });
}

/** The x-oss-process chain for one output: resize to its width, its format, its absolute quality. */
function transformChain(spec: OutputSpec): string {
  // PNG is lossless: no quality.
  if (spec.format === 'png') return `image/resize,w_${spec.width}/format,png`;
  return `image/resize,w_${spec.width}/format,${EXTENSIONS[spec.format]}/quality,Q_${spec.quality}`;
}

export const imgpipe: Competitor = {
  id: 'imgpipe',
  label: 'imgpipe',
  async prepare(threads: ThreadMode, workload: Workload): Promise<PreparedRun> {
    const { api, entry } = await loadApi();
    const watermark = workload.outputs.some((o) => o.watermark);
    const recipe = recipeFor(api, watermark);
    // All cores: the recipe's encodes go to a worker pool with one thread per core (the pool's default).
    const pool = threads === 'all' && api.createWorkerPool ? api.createWorkerPool() : undefined;
    return {
      settings: [
        `imgpipe from ${entry}`,
        workload.kind === 'recipe'
          ? `processUpload with the default recipe (fastShrinkOnLoad), ${watermark ? 'watermark on large+medium' : 'watermark removed'}`
          : `transform(bytes, '${workload.outputs.map(transformChain).join("', '")}')`,
        // A lossy WebP's decode takes libwebp's helper thread in every mode, as sharp's libwebp takes its second thread.
        `threads: ${threads === 'single' ? 'one (UV_THREADPOOL_SIZE=1), encodes in the main thread' : pool ? `encodes on createWorkerPool() with ${pool.threads} threads` : 'library default (encodes in the main thread)'}; a lossy WebP's decode on two threads (libwebp's row worker, as sharp's libwebp)`,
      ].join('; '),
      async run(input, outputs): Promise<BenchOutput[]> {
        if (workload.kind === 'recipe') {
          return checkRecipeOutputs(await api.processUpload(input, { key: 'uploads/bench.jpg', recipe, encoder: pool?.encode, decodeHelper: pool?.decodeHelper }), outputs);
        }
        const results: BenchOutput[] = [];
        for (const spec of outputs) {
          const out = await api.transform(input, transformChain(spec));
          results.push({ name: spec.name, bytes: out.bytes, width: out.width, height: out.height });
        }
        return results;
      },
    };
  },
};
