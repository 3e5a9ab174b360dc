/**
 * The pooled recipe with and without an idle worker sharing the largest size's decode and resize
 * (`decodeResized`): the same pool's `encode`, with and without its `decodeHelper`. Runs are interleaved; the outputs of both, concatenated,
 * must be the same bytes. Watermark off, as in the benchmark's recipe rows.
 *
 *   npx tsx bench/sharedrows.ts [--runs N] [--warmup N]
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_RECIPE, createWorkerPool, processUpload, type RowHelper } from '../entries/node.js';
import { INPUTS } from './inputs.js';
import { encoderRows, formatTable, interleaved } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, warmup: { type: 'string', default: '3' } }, strict: true });

const bytes = new Uint8Array(readFileSync(INPUTS.photo.path));
const { watermark: _dropped, ...recipe } = DEFAULT_RECIPE;
const pool = createWorkerPool();

const run = (decodeHelper: RowHelper | undefined) => async () => {
  const variants = await processUpload(bytes, { key: 'uploads/photo.jpg', recipe, encoder: pool.encode, decodeHelper });
  return new Uint8Array(Buffer.concat(variants.map((v) => v.bytes)));
};
const candidates = { 'pool.encode + decodeHelper (an idle worker shares the rows)': run(pool.decodeHelper), 'the same pool, no sharing': run(undefined) };
const rows = encoderRows(await interleaved(candidates, Number(values.runs), Number(values.warmup)), Object.keys(candidates)[1]);
await pool.close();

console.log(`recipe on ${INPUTS.photo.label}, ${pool.threads} pool threads on ${availableParallelism()} cores, ${values.runs} interleaved runs after ${values.warmup} warm-up`);
console.log(formatTable(['encoder', 'median ms', 'min ms', 'x no sharing', 'bytes (all six)', 'same bytes'], rows));
