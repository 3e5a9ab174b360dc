/**
 * With a pool's decodeHelper, the recipe shares the decode and resize of its largest size with an idle
 * worker: same bytes as one thread, the same refusals for damaged files, and no sharing where it
 * can't pay (a progressive file, no idle worker).
 */
import { afterAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type * as Api from '../../entries/node.js';
import { image } from '../helpers/fixtures.js';
import { rejection } from '../helpers/errors.js';

// The built package, like the workers themselves (dist/pool-worker.js).
const BUILT: string = '../../dist/node.js';
const { DEFAULT_RECIPE, createWorkerPool, decode, processUpload } = (await import(BUILT)) as typeof Api;

const PHOTO = image('2569067123_aca715a2ee_o.jpg');
const { watermark: _w, ...RECIPE } = DEFAULT_RECIPE;
const pool = createWorkerPool({ threads: 2 });
afterAll(() => pool.close());

/** The pool's tasks one recipe run adds: its six encodes, plus one when a worker took a share of rows. */
async function tasksFor(bytes: Uint8Array): Promise<{ tasks: number; variants: Awaited<ReturnType<typeof processUpload>> }> {
  // A worker must already be up and free for the recipe to share with it.
  await pool.encode({ width: 8, height: 8, data: new Uint8ClampedArray(256) }, 'jpeg');
  const before = pool.stats().completed;
  const variants = await processUpload(bytes, { key: 'u/a.jpg', recipe: RECIPE, encoder: pool.encode, decodeHelper: pool.decodeHelper });
  return { tasks: pool.stats().completed - before, variants };
}

describe('the largest size shared with a pool worker', () => {
  it('makes the photo\'s variants byte-identical to one thread, with a worker taking a share of the rows', async () => {
    const alone = await processUpload(PHOTO, { key: 'u/a.jpg', recipe: RECIPE });
    const { tasks, variants } = await tasksFor(PHOTO);
    expect(tasks).toBe(7);
    expect(variants.map((v) => [v.key, Buffer.from(v.bytes).toString('base64')])).toEqual(alone.map((v) => [v.key, Buffer.from(v.bytes).toString('base64')]));
  });

  it('brings a Display P3 photo to sRGB in both shares: byte-identical to one thread', async () => {
    const p3 = new Uint8Array(await sharp(PHOTO).withIccProfile('p3').jpeg({ quality: 85 }).toBuffer());
    const alone = await processUpload(p3, { key: 'u/p3.jpg', recipe: RECIPE });
    const { tasks, variants } = await tasksFor(p3);
    expect(tasks).toBe(7);
    expect(variants.map((v) => Buffer.from(v.bytes).toString('base64'))).toEqual(alone.map((v) => Buffer.from(v.bytes).toString('base64')));
    // Brought back to sRGB: close to the same photo saved as sRGB (mean difference ~1.3 levels; read
    // without the profile, the P3 values are ~2.5 levels away from the converted ones on average).
    const srgb = new Uint8Array(await sharp(PHOTO).jpeg({ quality: 85 }).toBuffer());
    const [ours, reference] = await Promise.all([variants[0].bytes, (await processUpload(srgb, { key: 'u/s.jpg', recipe: RECIPE }))[0].bytes].map((b) => sharp(b).raw().toBuffer()));
    expect(ours.reduce((sum, v, i) => sum + Math.abs(v - reference[i]), 0) / ours.length).toBeLessThan(1.8);
  });

  it('leaves a progressive file to one thread: its rows only come out after every scan is read', async () => {
    const progressive = new Uint8Array(await sharp(PHOTO).jpeg({ progressive: true, quality: 85 }).toBuffer());
    const alone = await processUpload(progressive, { key: 'u/p.jpg', recipe: RECIPE });
    const { tasks, variants } = await tasksFor(progressive);
    expect(tasks).toBe(6);
    expect(variants.map((v) => Buffer.from(v.bytes).toString('base64'))).toEqual(alone.map((v) => Buffer.from(v.bytes).toString('base64')));
  });

  it('refuses damage in either share with the code and message of a decode on one thread', async () => {
    for (const at of [0.3, 0.9]) {
      const cut = Math.floor(PHOTO.length * at);
      // A restart marker in a file that declares no restart interval.
      const damaged = new Uint8Array([...PHOTO.subarray(0, cut), 0xff, 0xd3, ...PHOTO.subarray(cut)]);
      const expected = await rejection(decode(damaged));
      expect(expected.code).toBe('CORRUPT_IMAGE');
      await pool.encode({ width: 8, height: 8, data: new Uint8ClampedArray(256) }, 'jpeg');
      expect(await rejection(processUpload(damaged, { key: 'u/d.jpg', recipe: RECIPE, encoder: pool.encode, decodeHelper: pool.decodeHelper })), `damage at ${at}`).toEqual(expected);
    }
  });
});
