import { imgpipe } from './imgpipe.js';
import { jimp } from './jimp.js';
import { sharpCascade, sharpDecodeOnce, sharpPerVariant, sharpWasm32 } from './sharp.js';
import type { Competitor } from './types.js';
import { wasmVips } from './wasm-vips.js';

/**
 * The benchmark's child process doing nothing: the cold-start floor every row pays, printed so a
 * reader can tell library start-up from runtime start-up.
 */
export const baseline: Competitor = {
  id: 'node-baseline',
  label: 'node, no work',
  async prepare() {
    return { settings: `node ${process.version}, the benchmark's child script, imports nothing, runs nothing`, run: async () => [] };
  },
};

/** Every competitor, in table order. Ours first, then the reference, then the peers. */
export const COMPETITORS: readonly Competitor[] = Object.freeze([imgpipe, sharpPerVariant, sharpDecodeOnce, sharpCascade, sharpWasm32, wasmVips, jimp]);

export function findCompetitor(id: string): Competitor | undefined {
  return id === baseline.id ? baseline : COMPETITORS.find((c) => c.id === id);
}
