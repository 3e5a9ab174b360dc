/**
 * decodeLent: a JPEG's pixels stay in the decoder's memory until release(), and no other decode may
 * reuse that memory meanwhile (the recipe relies on it with many runs in flight).
 */
import { describe, expect, it } from 'vitest';
import { decode, inspect } from '../../src/decode.js';
import { decodeLent as lendFrom } from '../../src/decode-resized.js';
import '../../entries/node.js';
import { image } from '../helpers/fixtures.js';

/** decodeLent with the header it expects (what `inspect` returns for the bytes). */
const decodeLent = (bytes: Uint8Array) => lendFrom(bytes, inspect(bytes));

const A = image('320x240.jpg');
const B = image('concert.jpg');

/** Whether `p` settles within a few turns of the event loop. */
async function settlesSoon(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true), () => (settled = true));
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
  return settled;
}

describe('decodeLent', () => {
  it('lends the same pixels decode() returns, and holds other decodes back until release()', async () => {
    const owned = await decode(A);
    const lent = await decodeLent(A);
    expect(Buffer.compare(Buffer.from(lent.image.data), Buffer.from(owned.data))).toBe(0);
    const other = decode(B);
    expect(await settlesSoon(other)).toBe(false);
    // Still intact while the other decode waits.
    expect(Buffer.compare(Buffer.from(lent.image.data), Buffer.from(owned.data))).toBe(0);
    lent.release();
    expect((await other).width).toBeGreaterThan(0);
  });

  it('a second release() of an old lease never ends a newer one', async () => {
    const first = await decodeLent(A);
    first.release();
    const second = await decodeLent(A);
    first.release();
    const waiting = decode(B);
    expect(await settlesSoon(waiting)).toBe(false);
    second.release();
    await waiting;
  });

  it('lends nothing for formats decoded elsewhere, and oriented JPEGs come back as copies', async () => {
    const png = await decodeLent(image('with-alpha.png'));
    // No lease: a JPEG decode goes ahead without waiting.
    expect(await settlesSoon(decode(A))).toBe(true);
    png.release();
    const rotated = await decodeLent(image('Landscape_6.jpg'));
    expect(await settlesSoon(decode(A))).toBe(true);
    rotated.release();
  });
});
