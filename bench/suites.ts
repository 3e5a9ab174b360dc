/**
 * Decoder fidelity across public test suites: every file under the given folders (JPEG, PNG, WebP,
 * GIF) through imgpipe's `decode` (stored orientation, default failOn) and through native sharp
 * (first frame, sRGB, 8 bits, alpha added), then counted:
 * - both decode: same pixels, or a disagreement (size, or the largest channel difference);
 * - sharp decodes, imgpipe refuses (with imgpipe's code and message): what the README must explain;
 * - imgpipe decodes, sharp refuses; both refuse.
 * The suites are not part of the repository: fetch them first (e.g. PngSuite, libjpeg-turbo's
 * testimages, Pillow's Tests/images) and pass their folders.
 *
 *   npx tsx bench/suites.ts <folder>... [--list]   (--list prints every file's outcome)
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decode } from '../entries/node.js';

sharp.cache(false);

const IMAGE = /\.(jpe?g|png|apng|webp|gif)$/i;

function files(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : IMAGE.test(name) ? [path] : [];
  });
}

type Outcome =
  | { kind: 'same' }
  | { kind: 'differ'; detail: string }
  | { kind: 'refused by imgpipe only'; detail: string }
  | { kind: 'refused by sharp only'; detail: string }
  | { kind: 'both refuse'; detail: string };

async function compare(bytes: Uint8Array): Promise<Outcome> {
  const theirs = await sharp(bytes).toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
    .catch((e: Error) => e);
  const ours = await decode(bytes, { autoOrient: false }).catch((e: { code?: string; message?: string }) => e);
  const oursFailed = !('data' in ours);
  const oursWhy = oursFailed ? `${(ours as { code?: string }).code}: ${(ours as { message?: string }).message}` : '';
  if (theirs instanceof Error) {
    return oursFailed ? { kind: 'both refuse', detail: oursWhy } : { kind: 'refused by sharp only', detail: theirs.message.split('\n')[0] };
  }
  if (oursFailed) return { kind: 'refused by imgpipe only', detail: oursWhy };
  const img = ours as Awaited<ReturnType<typeof decode>>;
  if (img.width !== theirs.info.width || img.height !== theirs.info.height || theirs.info.channels !== 4) {
    return { kind: 'differ', detail: `${img.width}x${img.height} against sharp's ${theirs.info.width}x${theirs.info.height}x${theirs.info.channels}` };
  }
  let worst = 0, sum = 0;
  for (let i = 0; i < theirs.data.length; i++) {
    const d = Math.abs(img.data[i] - theirs.data[i]);
    sum += d;
    if (d > worst) worst = d;
  }
  return worst === 0 ? { kind: 'same' } : { kind: 'differ', detail: `largest channel difference ${worst}, mean ${(sum / theirs.data.length).toFixed(3)}` };
}

const args = process.argv.slice(2);
const list = args.includes('--list');
const dirs = args.filter((a) => !a.startsWith('--'));
const counts = new Map<string, number>();
const notable: string[] = [];
for (const dir of dirs) {
  for (const path of files(dir)) {
    const outcome = await compare(new Uint8Array(readFileSync(path)));
    counts.set(outcome.kind, (counts.get(outcome.kind) ?? 0) + 1);
    const line = `${outcome.kind.padEnd(24)} ${path}${'detail' in outcome ? `  ${outcome.detail}` : ''}`;
    if (list) console.log(line);
    else if (outcome.kind === 'differ' || outcome.kind === 'refused by imgpipe only' || outcome.kind === 'refused by sharp only') notable.push(line);
  }
}
for (const line of notable) console.log(line);
console.log(JSON.stringify(Object.fromEntries(counts)));
