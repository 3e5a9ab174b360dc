/**
 * What a profile only Little CMS applies costs: the LUT-profile JPEG (test/fixtures/icc/lut-profile.jpg)
 * decoded into a 600 px resize, cold (the module compiled and the profile's transform built) and
 * warm (the transform reused), against the same file read as if it had no profile (the streamed
 * path, no conversion). Runs interleaved in one process; medians of the warm runs.
 *
 *   npx tsx bench/lcms.ts [--runs 12]
 */
import { readFileSync } from 'node:fs';
import { readHeader } from '../entries/node.js';
import { decodeResized } from '../src/decode-resized.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 12;
const bytes = new Uint8Array(readFileSync(new URL('../test/fixtures/icc/lut-profile.jpg', import.meta.url)));
const header = readHeader(bytes);
const target = { width: 600, height: Math.round((header.height * 600) / header.width) };
const bare = { ...header, iccBytes: 0, iccRanges: undefined };

const time = async (f: () => Promise<unknown>) => {
  const start = performance.now();
  await f();
  return performance.now() - start;
};
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

// The profile-less path first, so its modules are compiled before the cold lcms run.
await decodeResized(bytes, bare, target);
const cold = await time(() => decodeResized(bytes, header, target));
const lcms: number[] = [], plain: number[] = [];
for (let i = 0; i < runs; i++) {
  lcms.push(await time(() => decodeResized(bytes, header, target)));
  plain.push(await time(() => decodeResized(bytes, bare, target)));
}
console.log(`${header.width}x${header.height} to ${target.width}x${target.height}`);
console.log(`with its LUT profile, cold (module + transform): ${cold.toFixed(1)} ms`);
console.log(`with its LUT profile, warm (median of ${runs}):  ${median(lcms).toFixed(1)} ms`);
console.log(`read as profile-less (median of ${runs}):        ${median(plain).toFixed(1)} ms`);
console.log(`ratio warm/profile-less: ${(median(lcms) / median(plain)).toFixed(2)}x`);
