import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import '../../entries/node.js';
import { runRecipe, DEFAULT_RECIPE, type Recipe } from '../../src/recipe.js';
import { extractBlindWatermark } from '../../src/ops/blind-watermark.js';
import { okManifest } from '../../adapters/fc/manifest.js';
import { pixels } from '../../bench/blindmark-attacks.js';
import { image } from '../helpers/fixtures.js';
import { rejection } from '../helpers/errors.js';

const recipe = (content: string): Recipe => ({ ...DEFAULT_RECIPE, blindWatermark: { content, strength: 'medium', key: 'tenant key' } });

describe('recipe blindWatermark', () => {
  it("marks the watermarked sizes with the uploader's id from x-oss-meta-*, records it, leaves the thumbnail alone", async () => {
    const result = await runRecipe(image('flowers.jpeg'), {
      key: 'uploads/flowers.jpeg', recipe: recipe('{meta:uploader}'), metadata: { 'x-oss-meta-uploader': 'u8812' },
    });
    expect(result.blindWatermark).toEqual({ content: 'u8812', carried: 'text', strength: 'medium', sizes: ['large', 'medium'], skipped: [] });
    for (const v of result.variants) {
      const read = await extractBlindWatermark(await pixels(sharp(v.bytes)), { key: 'tenant key' });
      expect({ key: v.key, found: read.found, content: read.content })
        .toEqual({ key: v.key, found: v.size !== 'thumb', content: v.size !== 'thumb' ? 'u8812' : undefined });
    }
    const manifest = okManifest('bucket', 'etag', result, result.variants, new Date(0));
    expect(manifest.blindWatermark).toEqual(result.blindWatermark);
  });

  it('carries a long templated content as an ID that the recorded result resolves', async () => {
    const result = await runRecipe(image('flowers.jpeg'), { key: 'uploads/flowers.jpeg', recipe: recipe('{key} by {meta:uploader}'), metadata: { uploader: 'u8812' } });
    const record = result.blindWatermark!;
    expect(record).toMatchObject({ content: 'uploads/flowers.jpeg by u8812', carried: 'id' });
    const large = result.variants.find((v) => v.size === 'large' && v.format === 'jpeg')!;
    const read = await extractBlindWatermark(await pixels(sharp(large.bytes)), { key: 'tenant key', resolve: (id) => (id === record.id ? record.content : undefined) });
    expect(read).toMatchObject({ found: true, id: record.id, content: 'uploads/flowers.jpeg by u8812' });
  });

  it('refuses an upload without the metadata the content asks for, and a bad strength', async () => {
    const e = await rejection(runRecipe(image('flowers.jpeg'), { key: 'a.jpg', recipe: recipe('{meta:uploader}') }));
    expect(e).toEqual({ code: 'INVALID_ARGUMENT', message: 'Expected user metadata x-oss-meta-uploader for {meta:uploader} in recipe.blindWatermark.content but received an upload without it' });
    const bad = await rejection(runRecipe(image('flowers.jpeg'), { key: 'a.jpg', recipe: { ...DEFAULT_RECIPE, blindWatermark: { content: 'x', strength: 'max' as never } } }));
    expect(bad).toEqual({ code: 'INVALID_ARGUMENT', message: `Expected 'low', 'medium' or 'high' for recipe.blindWatermark.strength but received "max"` });
  });
});
