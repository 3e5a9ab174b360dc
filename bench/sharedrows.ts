/**
 * The pooled recipe with and without an idle worker sharing the largest size's decode and resize
 * (`decodeResized`): the same pool, passed as `pool.encode` (which carries the row sharing) or as a
 * plain function around it (which doesn't). Runs are interleaved; the outputs of both, concatenated,
 * must be the same bytes. Watermark off, as in the benchmark's recipe rows.
 *
 *   npx tsx bench/sharedrows.ts [--runs N] [--warmup N]
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_RECIPE, createWorkerPool, processUpload, type Encoder } from '../entries/node.js';
import { INPUTS } from './inputs.js';
import { encoderRows, formatTable, interleaved } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, warmup: { type: 'string', default: '3' } }, strict: true });

const bytes = new Uint8Array(readFileSync(INPUTS.photo.path));
const { watermark: _dropped, ...recipe } = DEFAULT_RECIPE;
const pool = createWorkerPool();
const withoutSharing: Encoder = (image, format, options) => pool.encode(image, format, options);

const run = (encoder: Encoder) => async () => {
  const variants = await processUpload(bytes, { key: 'uploads/photo.jpg', recipe, encoder });
  return new Uint8Array(Buffer.concat(variants.map((v) => v.bytes)));
};
const candidates = { 'pool.encode (an idle worker shares the rows)': run(pool.encode), 'the same pool, no sharing': run(withoutSharing) };
const rows = encoderRows(await interleaved(candidates, Number(values.runs), Number(values.warmup)), Object.keys(candidates)[1]);
await pool.close();

console.log(`recipe on ${INPUTS.photo.label}, ${pool.threads} pool threads on ${availableParallelism()} cores, ${values.runs} interleaved runs after ${values.warmup} warm-up`);
console.log(formatTable(['encoder', 'median ms', 'min ms', 'x no sharing', 'bytes (all six)', 'same bytes'], rows));
