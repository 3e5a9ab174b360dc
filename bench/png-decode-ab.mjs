/**
 * Two imgpipe builds on one PNG, alternating in one process: the CPU milliseconds (every thread,
 * process.cpuUsage) of decode() (the whole decode) and of a 720 px JPEG transform (the streamed
 * decode into the resize, then the encode), medians. For a decoder change on a loaded machine,
 * where separate processes' timings move with the load far more than this ratio does.
 *
 *   UV_THREADPOOL_SIZE=1 node bench/png-decode-ab.mjs <new dist/node.js> <old dist/node.js> [runs] [file]
 *
 * Swap the two builds between rounds: the first of a pair can run in a slightly different state.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [a, b, runs = '25', file = 'bench/.cache/derived/photo-2725x2225.png'] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/png-decode-ab.mjs <new entry> <old entry> [runs] [file]');
  process.exit(2);
}
const A = await import(pathToFileURL(resolve(a)).href);
const B = await import(pathToFileURL(resolve(b)).href);
const input = new Uint8Array(readFileSync(file));
const ops = {
  decode: (m) => m.decode(input),
  'transform-720-jpeg': (m) => m.transform(input, 'image/resize,w_720/format,jpg/quality,Q_85'),
};
const median = (t) => [...t].sort((x, y) => x - y)[t.length >> 1];
for (const [name, op] of Object.entries(ops)) {
  // Untimed runs first: compilation and first-use allocations are not what is compared.
  for (let i = 0; i < 3; i++) {
    await op(A);
    await op(B);
  }
  const ta = [], tb = [];
  for (let i = 0; i < Number(runs); i++) {
    for (const [m, t] of [[A, ta], [B, tb]]) {
      const start = process.cpuUsage();
      await op(m);
      const used = process.cpuUsage(start);
      t.push((used.user + used.system) / 1000);
    }
  }
  console.log(`${name.padEnd(20)} ${a}: ${median(ta).toFixed(1)} ms  ${b}: ${median(tb).toFixed(1)} ms  ${(median(ta) / median(tb)).toFixed(3)}x`);
}
process.exit(0);
