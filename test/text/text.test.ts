/** Fonts, layout and text rendering: quality against a reference renderer, scripts, fallback, caching. */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFont, loadFont } from '../../src/text/font.js';
import { layoutText } from '../../src/text/layout.js';
import { clearGlyphCache, glyphCacheStats, renderText } from '../../src/text/render.js';
import { isImgpipeError } from '../../src/errors.js';
import { fixture, FONTS } from '../helpers/fixtures.js';
import { alignedSsim, inkCrop, inkSize } from './ssim.js';

const noto = fixture('fonts/NotoSans-Regular.ttf');
const droid = fixture('fonts/DroidSansFallback.ttf');
const DEFAULT = await defaultFont();

type Sharp = typeof import('sharp').default;
let sharp: Sharp;

beforeAll(async () => {
  // The reference renderer must not hint: hinting snaps outlines to the pixel grid (changing glyph
  // shapes by design), and imgpipe renders outlines unhinted, as browsers do at these sizes. sharp's
  // Pango reads fontconfig's settings when it first renders text in this process, so the override
  // is put in place before sharp is loaded (vitest runs each test file in its own process).
  const dir = mkdtempSync(join(tmpdir(), 'imgpipe-fontconfig-'));
  writeFileSync(join(dir, 'fonts.conf'), `<?xml version="1.0"?>
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <match target="font">
    <edit name="hinting" mode="assign"><bool>false</bool></edit>
    <edit name="hintstyle" mode="assign"><const>hintnone</const></edit>
    <edit name="antialias" mode="assign"><bool>true</bool></edit>
  </match>
</fontconfig>
`);
  process.env.FONTCONFIG_FILE = join(dir, 'fonts.conf');
  sharp = (await import('sharp')).default;
});

/** sharp's text input: Pango + FreeType + cairo rendering the same font file, as 8-bit coverage. */
async function reference(text: string, fontfile: string, family: string, size: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  // At 72 dpi a Pango size of N points is N px per em, the same unit as our `size`.
  const { data, info } = await sharp({ text: { text, fontfile, font: `${family} ${size}`, dpi: 72 } })
    .greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

async function compare(text: string, fontBytes: Uint8Array, fontfile: string, family: string): Promise<{ score: number; ours: { width: number; height: number }; ref: { width: number; height: number } }> {
  const ref = await reference(text, fontfile, family, 40);
  const mask = renderText(text, 40, [await loadFont(fontBytes)]);
  const ours = inkSize(mask.data, mask.width, mask.height);
  const refInk = inkSize(ref.data, ref.width, ref.height);
  const w = Math.max(ours.width, refInk.width) + 4, h = Math.max(ours.height, refInk.height) + 4;
  const a = inkCrop(mask.data, mask.width, mask.height, w, h);
  const b = inkCrop(ref.data, ref.width, ref.height, w, h);
  return { score: alignedSsim(a, b, w, h), ours, ref: refInk };
}

describe('text rendering quality', () => {
  // Reference: sharp's text input (Pango shaping, FreeType outlines, cairo's exact-area anti-aliasing),
  // unhinted, with the same font file, compared by SSIM (8×8 windows) after aligning the ink boxes.

  it('renders single glyphs like FreeType does (SSIM ≥ 0.99)', async () => {
    // One glyph at a whole-pixel pen position: both renderers compute the exact area coverage of the
    // same outline, so they agree to within 8-bit rounding: measured ≥ 0.9996 for every glyph here.
    // 0.99 leaves room for FreeType version drift while any real rasterising error (edges off by a
    // fraction of a pixel, no anti-aliasing, wrong winding) falls well below it.
    for (const glyph of ['g', 'A', 'S', '@', 'Q']) {
      const { score } = await compare(glyph, noto, `${FONTS}NotoSans-Regular.ttf`, 'Noto Sans');
      expect(score, glyph).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('renders a Latin line at 40 px like Pango does (SSIM ≥ 0.89)', async () => {
    // Over a line, Pango rounds every glyph position to a whole pixel while imgpipe keeps quarter
    // pixels (closer to the font's advances), so glyphs sit up to half a pixel apart. Measured 0.909,
    // ink boxes equal to ±1 px; the same text without anti-aliasing scores 0.864, so 0.89 separates
    // them, and a flipped, mis-kerned or mis-scaled line scores far lower.
    const { score, ours, ref } = await compare('Typography AVAWAY fi 0123', noto, `${FONTS}NotoSans-Regular.ttf`, 'Noto Sans');
    expect(Math.abs(ours.width - ref.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(ours.height - ref.height)).toBeLessThanOrEqual(1);
    expect(score).toBeGreaterThanOrEqual(0.89);
  });

  it('renders CJK from DroidSansFallback like Pango does (SSIM ≥ 0.98)', async () => {
    // Full-width CJK advances are whole pixels at 40 px, so positions agree too: measured 1.000
    // (0.928 without anti-aliasing).
    const { score, ours, ref } = await compare('版权所有', droid, `${FONTS}DroidSansFallback.ttf`, 'Droid Sans Fallback');
    expect(ours).toEqual(ref);
    expect(score).toBeGreaterThanOrEqual(0.98);
  });
});

describe('layout', () => {
  it('renders 版权所有 imgpipe with the Droid font, taking the Latin letters from the default font', async () => {
    const chain = [await loadFont(droid), DEFAULT];
    const layout = layoutText('版权所有 imgpipe', 40, chain);
    expect(layout.glyphs.some((g) => g.missing)).toBe(false);
    const fonts = layout.glyphs.map((g) => (g.font === chain[0] ? 'droid' : 'default'));
    expect(fonts.slice(0, 5)).toEqual(['droid', 'droid', 'droid', 'droid', 'droid']); // CJK and the space
    expect(fonts.slice(5)).toEqual(Array(7).fill('default'));
    // Every glyph but the space puts ink down, each in its own advance slot.
    const mask = renderText('版权所有 imgpipe', 40, chain);
    for (const g of layout.glyphs) {
      if (g.glyph.index === chain[0].font.charToGlyphIndex(' ')) continue;
      let ink = 0;
      for (let y = 0; y < mask.height; y++) for (let x = Math.ceil(g.x) - mask.left + 2; x < Math.ceil(g.x) - mask.left + 10; x++) ink += mask.data[y * mask.width + x];
      expect(ink).toBeGreaterThan(0);
    }
  });

  it('draws a missing glyph (emoji) as a hollow box without failing', () => {
    const chain = [DEFAULT];
    const layout = layoutText('a😀b', 40, chain);
    expect(layout.glyphs.map((g) => g.missing)).toEqual([false, true, false]);
    const box = layout.glyphs[1];
    const mask = renderText('a😀b', 40, chain);
    // Scan the box's middle row: ink at both walls, none in the middle.
    const row = Math.round(-mask.top - 0.35 * 40);
    const line = Array.from({ length: mask.width }, (_, x) => mask.data[row * mask.width + x]);
    const x0 = Math.floor(box.x) - mask.left, x1 = Math.floor(layout.glyphs[2].x) - mask.left;
    const inside = line.slice(x0, x1);
    const inked = inside.map((v, i) => (v > 128 ? i : -1)).filter((i) => i >= 0);
    expect(inked.length).toBeGreaterThanOrEqual(2);
    const [first, last] = [inked[0], inked[inked.length - 1]];
    expect(last - first).toBeGreaterThan(8);
    expect(inside.slice(first + 4, last - 3).every((v) => v === 0)).toBe(true);
  });

  it('kerns pairs the font kerns', () => {
    const chain = [DEFAULT];
    const pair = layoutText('AV', 100, chain).advance;
    const apart = layoutText('A', 100, chain).advance + layoutText('V', 100, chain).advance;
    expect(pair).toBeLessThan(apart - 2);
  });
});

describe('fonts and caches', () => {
  it('re-uses rasterised glyphs on a second rendering', () => {
    clearGlyphCache();
    const before = glyphCacheStats().rasterisations;
    renderText('cache me', 33, [DEFAULT]);
    const first = glyphCacheStats().rasterisations - before;
    expect(first).toBeGreaterThan(0);
    renderText('cache me', 33, [DEFAULT]);
    expect(glyphCacheStats().rasterisations - before).toBe(first);
    expect(glyphCacheStats().entries).toBeGreaterThan(0);
  });

  it('parses identical font bytes once, whichever buffer they come in', async () => {
    const a = await loadFont(droid), b = await loadFont(new Uint8Array(droid));
    expect(b).toBe(a);
  });

  it('refuses bytes that are not a font, naming the parameter and what it received', async () => {
    const junk = new TextEncoder().encode('hello, not a font at all');
    const e = await loadFont(junk).then(() => undefined, (err: unknown) => err);
    expect(isImgpipeError(e, 'INVALID_ARGUMENT')).toBe(true);
    expect((e as Error).message).toBe('Expected TrueType, OpenType or WOFF font bytes for watermark.font but received 24 bytes starting with "hell"');
  });
});
