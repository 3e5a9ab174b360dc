/** The default upload recipe watermarks large and medium, lower-right, and leaves thumb alone. */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { DEFAULT_RECIPE, processUpload, type Variant } from '../../entries/node.js';
import { image } from '../helpers/fixtures.js';

async function raw(v: Variant): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(v.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('recipe watermark', () => {
  it('marks large and medium in the lower-right corner, not thumb', async () => {
    const src = image('2569067123_aca715a2ee_o.jpg');
    const key = 'uploads/photo.jpg';
    const [marked, clean] = await Promise.all([
      processUpload(src, { key }),
      processUpload(src, { key, recipe: { ...DEFAULT_RECIPE, watermark: undefined } }),
    ]);
    for (const size of ['large', 'medium', 'thumb']) {
      // PNG would be lossless, but the recipe writes JPEG/WebP: compare the JPEG decodes, which
      // only differ where the pixels before encoding differed (plus the 8×8 blocks around them).
      const a = await raw(marked.find((v) => v.size === size && v.format === 'jpeg')!);
      const b = await raw(clean.find((v) => v.size === size && v.format === 'jpeg')!);
      let x0 = Infinity, y0 = Infinity, changed = 0;
      for (let i = 0; i < a.data.length; i++) {
        if (Math.abs(a.data[i] - b.data[i]) > 24) {
          const p = Math.floor(i / 3);
          x0 = Math.min(x0, p % a.width);
          y0 = Math.min(y0, Math.floor(p / a.width));
          changed++;
        }
      }
      if (size === 'thumb') {
        expect(Buffer.compare(a.data, b.data), 'thumb is not watermarked').toBe(0);
        continue;
      }
      // The text is width/30 px tall (40 px at 1200, 20 px at 600), 20 px from the right and bottom
      // edges: everything that changed lies in the lower-right corner, within one JPEG block of it.
      const size40 = Math.max(20, Math.round(a.width / 30));
      expect(changed, `${size} carries a watermark`).toBeGreaterThan(size40 * 10);
      expect(x0).toBeGreaterThan(a.width / 2);
      expect(y0).toBeGreaterThan(a.height - 20 - 2 * size40 - 8);
    }
  });
});
