/**
 * Many recipe runs at once on one instance (as Function Compute delivers them): all succeed with the
 * same bytes a run on its own produces, and a limiter bounds how many are in flight.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECIPE, createLimiter, isImgpipeError, processUpload, type Variant } from '../../entries/node.js';
import { image } from '../helpers/fixtures.js';

const MIXED = ['320x240.jpg', 'with-alpha.png', '5_webp_a.webp', 'animated-loop-3.gif', 'concert.jpg', 'grey-8bit-alpha.png', 'Flag_of_the_Netherlands-16bit.png', 'rotating-squares.webp'];
const recipe = DEFAULT_RECIPE;

/** A promise with its resolver outside (Node 20 has no Promise.withResolvers). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const summary = (variants: readonly Variant[]) => variants.map((v) => ({ key: v.key, width: v.width, height: v.height, bytes: v.bytes }));

describe('concurrent recipe runs', () => {
  it('16 runs at once through a limiter of 3: all correct, never more than 3 in flight', async () => {
    // Reference: each fixture on its own, one after another.
    const reference = new Map<string, ReturnType<typeof summary>>();
    for (const name of MIXED) reference.set(name, summary(await processUpload(image(name), { key: `up/${name}`, recipe })));

    const limiter = createLimiter(3);
    let inFlight = 0, peak = 0, peakPending = 0;
    const jobs = Array.from({ length: 16 }, (_, i) => MIXED[i % MIXED.length]).map((name) =>
      limiter.run(async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        peakPending = Math.max(peakPending, limiter.pending);
        expect(limiter.active).toBeLessThanOrEqual(3);
        try {
          return { name, variants: await processUpload(image(name), { key: `up/${name}`, recipe }) };
        } finally {
          inFlight--;
        }
      }));
    const results = await Promise.all(jobs);
    expect(results).toHaveLength(16);
    for (const { name, variants } of results) expect(summary(variants)).toEqual(reference.get(name));
    expect(peak).toBe(3);
    expect(peakPending).toBeGreaterThan(0);
    expect([limiter.active, limiter.pending]).toEqual([0, 0]);
  });

  it('16 runs at once without a limiter also produce the reference bytes', async () => {
    const name = '320x240.jpg';
    const reference = summary(await processUpload(image(name), { key: 'a.jpg', recipe }));
    const results = await Promise.all(Array.from({ length: 16 }, () => processUpload(image(name), { key: 'a.jpg', recipe })));
    for (const variants of results) expect(summary(variants)).toEqual(reference);
  });

  it('a failing run releases its slot, and hostile inputs fail alone', async () => {
    const limiter = createLimiter(1);
    const outcomes = await Promise.allSettled([
      limiter.run(() => processUpload(new Uint8Array([0xff, 0xd8, 0xff]), { key: 'bad.jpg', recipe })),
      limiter.run(() => { throw new Error('task failed'); }),
      limiter.run(() => processUpload(image('with-alpha.png'), { key: 'ok.png', recipe })),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(isImgpipeError((outcomes[0] as PromiseRejectedResult).reason, 'CORRUPT_IMAGE')).toBe(true);
    expect(limiter.active).toBe(0);
  });
});

describe('createLimiter', () => {
  it('grants slots in arrival order', async () => {
    const limiter = createLimiter(2);
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, () => deferred());
    const runs = gates.map((g, i) => limiter.run(async () => { order.push(i); await g.promise; }));
    await Promise.resolve();
    expect([limiter.active, limiter.pending]).toEqual([2, 3]);
    for (const i of [1, 0, 2, 3, 4]) { gates[i].resolve(); await new Promise((r) => setTimeout(r, 0)); }
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('gives up waiting when aborted, without taking a slot', async () => {
    const limiter = createLimiter(1);
    const hold = deferred();
    const first = limiter.run(() => hold.promise);
    const controller = new AbortController();
    const waiting = limiter.run(() => 'never', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED', message: 'Expected to run the task but it was aborted while waiting for a free slot (createLimiter)' });
    expect(limiter.pending).toBe(0);
    hold.resolve();
    await first;
    await expect(limiter.run(() => 'ran')).resolves.toBe('ran');
    await expect(limiter.run(() => 'no', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses a concurrency that is not an integer between 1 and 1024', () => {
    for (const [value, shown] of [[0, '0'], [1.5, '1.5'], [2000, '2000'], [Number.NaN, 'null']] as const) {
      expect(() => createLimiter(value)).toThrowError(expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: `Expected an integer between 1 and 1024 for createLimiter(concurrency) but received ${shown}`,
      }));
    }
  });
});
