// The kernel takes an opaque source a band of rows at a time and keeps only a ring of intermediate
// rows. A file of its own: the memory figures need a kernel instance no other test has grown.
import { describe, expect, it } from 'vitest';
import '../../entries/node.js';
import { resizeRGBA, kernelStats } from '../../src/kernels/lanczos.js';
import type { RGBAImage } from '../../src/image.js';
import { meanDelta } from '../helpers/compare.js';
import { maxAbsDiff } from './compare.js';
import { decodeFixture, synthetic } from './fixtures.js';
import { referenceResize } from './reference.js';

describe('Lanczos3 kernel, streamed source', () => {
  it('resizes a 2725x2225 photo to 1200 px holding neither the whole source nor the whole intermediate', async () => {
    const photo = await decodeFixture('2569067123_aca715a2ee_o.jpg');
    expect(kernelStats().instancesCreated).toBe(0);
    const out = await resizeRGBA(photo, 1200, 980);
    expect(out.width).toBe(1200);
    // The whole path needs the 24 MB source, a 21 MB intermediate and the 4.7 MB output; streamed,
    // the output and ~0.5 MB of bands and ring rows.
    expect(kernelStats().memoryBytes).toBeLessThan(8 * 1024 * 1024);
    expect(kernelStats().memoryBytes).toBeGreaterThan(1200 * 980 * 4);
  });

  it('matches the exact computation when every row streams, upscaling and reducing', async () => {
    for (const [sw, sh, dw, dh] of [[97, 261, 211, 550], [300, 500, 120, 170], [64, 48, 65, 49]]) {
      const src = synthetic(sw, sh, false);
      const ours = await resizeRGBA(src, dw, dh);
      expect(maxAbsDiff(ours, referenceResize(src, dw, dh)), `${sw}x${sh} -> ${dw}x${dh}`).toBeLessThanOrEqual(2);
    }
  });

  it('starts over with premultiplied alpha when transparency shows up only in the last rows', async () => {
    // Rows 0..279 opaque: the first bands stream before the kernel can know about the alpha below.
    const src = synthetic(200, 300, true, 280);
    const ours = await resizeRGBA(src, 90, 130);
    const ref = referenceResize(src, 90, 130);
    expect(meanDelta(ours, ref)).toBeLessThanOrEqual(0.35);
    // Kept streaming without premultiplying, the semi-transparent rows' colours would be off.
    const bottom = (img: RGBAImage) => ({ width: 90, height: 10, data: img.data.subarray(120 * 90 * 4) });
    expect(meanDelta(bottom(ours), bottom(ref))).toBeLessThanOrEqual(0.5);
  });
});
