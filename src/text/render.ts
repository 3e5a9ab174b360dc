/**
 * Text to a coverage mask: glyphs rasterised once per (font, size, glyph, sub-pixel offset) and
 * kept in a bounded cache, then combined; rotated text is rasterised from the outlines in one pass so
 * it is as sharp as upright text (rotating a bitmap would blur it).
 */
import { LruCache } from './cache.js';
import type { LoadedFont } from './font.js';
import { layoutText, type TextLayout } from './layout.js';
import { rasterize, type Affine, type CoverageMask, type OutlinePart } from './raster.js';

/**
 * Horizontal pen positions are rounded to a quarter pixel: glyph spacing stays within 1/8 px of the
 * exact layout while one glyph needs at most four cached rasterisations per size.
 */
const SUBPIXEL_STEPS = 4;
/** Glyph cache budget in bytes of coverage: ~8 MB holds thousands of glyphs at watermark sizes. */
const GLYPH_CACHE_BYTES = 8 * 1024 * 1024;

const glyphCache = new LruCache<string, CoverageMask>(GLYPH_CACHE_BYTES);
let glyphRasterisations = 0;

/** Counters for tests and monitoring: cached glyph masks, their bytes, rasterisations so far. */
export function glyphCacheStats(): { entries: number; bytes: number; rasterisations: number } {
  return { entries: glyphCache.size, bytes: glyphCache.cost, rasterisations: glyphRasterisations };
}

/** Drop every cached glyph (for tests, or to release memory in a long-lived worker). */
export function clearGlyphCache(): void {
  glyphCache.clear();
}

/** Font units (y up) at `size` px/em, pen at (x, y) in pixels (y down). */
function glyphTransform(loaded: LoadedFont, size: number, x: number, y: number): Affine {
  const s = size / loaded.font.unitsPerEm;
  return [s, 0, 0, -s, x, y];
}

function cachedGlyph(loaded: LoadedFont, size: number, glyphIndex: number, commands: OutlinePart['commands'], step: number): CoverageMask {
  const key = `${loaded.id}:${size}:${glyphIndex}:${step}`;
  let mask = glyphCache.get(key);
  if (!mask) {
    mask = rasterize([{ commands, transform: glyphTransform(loaded, size, step / SUBPIXEL_STEPS, 0) }]);
    glyphRasterisations++;
    // Each entry also costs its key and object overhead: count that so tiny glyphs are not free.
    glyphCache.set(key, mask, mask.data.length + 64);
  }
  return mask;
}

/** A rendered line of text: its coverage over the text's box, and where the baseline falls. */
export interface TextMask extends CoverageMask {
  readonly layout: TextLayout;
}

/** Union of two coverages (a ∪ b = a + b − ab): overlapping glyphs never exceed full coverage. */
function unite(dst: Uint8Array, dstIndex: number, value: number): void {
  const old = dst[dstIndex];
  dst[dstIndex] = old === 0 ? value : old + value - ((old * value + 127) / 255 | 0);
}

/**
 * Render one line of text. The mask's box is the line box (advance × ascent+descent) grown to hold
 * any ink that pokes out of it, so placing the box places the text the way a layout engine would;
 * `left`/`top` give the box's offset from the pen origin on the baseline. With `rotate` (degrees,
 * clockwise) the box is the bounding box of the rotated line box, turned about its centre.
 */
export function renderText(text: string, size: number, fonts: readonly LoadedFont[], rotate = 0): TextMask {
  const layout = layoutText(text, size, fonts);
  // Upright glyph masks: needed for the upright result, and their ink extents bound the rotated one too.
  const placed: { mask: CoverageMask; x: number }[] = [];
  let left = 0, right = Math.ceil(layout.advance), top = -Math.ceil(layout.ascent), bottom = Math.ceil(layout.descent);
  for (const g of layout.glyphs) {
    const penX = Math.floor(g.x);
    const step = Math.round((g.x - penX) * SUBPIXEL_STEPS);
    const mask = cachedGlyph(g.font, size, g.glyph.index, g.glyph.path.commands, step);
    if (mask.width === 0) continue;
    placed.push({ mask, x: penX });
    left = Math.min(left, penX + mask.left);
    right = Math.max(right, penX + mask.left + mask.width);
    top = Math.min(top, mask.top);
    bottom = Math.max(bottom, mask.top + mask.height);
  }
  const width = Math.max(1, right - left), height = Math.max(1, bottom - top);
  const angle = ((rotate % 360) + 360) % 360;
  if (angle === 0) {
    const data = new Uint8Array(width * height);
    for (const { mask, x } of placed) {
      const ox = x + mask.left - left, oy = mask.top - top;
      for (let row = 0; row < mask.height; row++) {
        const src = row * mask.width, dst = (oy + row) * width + ox;
        for (let col = 0; col < mask.width; col++) {
          const v = mask.data[src + col];
          if (v !== 0) unite(data, dst + col, v);
        }
      }
    }
    return { width, height, left, top, data, layout };
  }
  // Rotate about the box centre: map each glyph's outline straight to the rotated pixel grid.
  const rad = (angle * Math.PI) / 180;
  const cos = Math.cos(rad), sin = Math.sin(rad);
  const cx = left + width / 2, cy = top + height / 2;
  // Rotated box: bounds of the four rotated corners of the upright box.
  const corners = [[left, top], [right, top], [left, bottom], [right, bottom]].map(([x, y]) => [
    cx + (x - cx) * cos - (y - cy) * sin,
    cy + (x - cx) * sin + (y - cy) * cos,
  ]);
  const rLeft = Math.floor(Math.min(...corners.map((c) => c[0])));
  const rTop = Math.floor(Math.min(...corners.map((c) => c[1])));
  const rWidth = Math.ceil(Math.max(...corners.map((c) => c[0]))) - rLeft;
  const rHeight = Math.ceil(Math.max(...corners.map((c) => c[1]))) - rTop;
  const parts: OutlinePart[] = layout.glyphs.map((g) => {
    const [a, , , d, e, f] = glyphTransform(g.font, size, g.x, 0);
    // rotation ∘ glyph transform, with the rotation taken about (cx, cy) and moved into the box.
    const tx = e - cx, ty = f - cy;
    const transform: Affine = [
      a * cos, a * sin,
      -d * sin, d * cos,
      cx + tx * cos - ty * sin - rLeft, cy + tx * sin + ty * cos - rTop,
    ];
    return { commands: g.glyph.path.commands, transform };
  });
  const ink = rasterize(parts);
  const data = new Uint8Array(rWidth * rHeight);
  // The ink lies inside the rotated box by construction; clip anyway against rounding at the edges.
  for (let row = 0; row < ink.height; row++) {
    const y = ink.top + row;
    if (y < 0 || y >= rHeight) continue;
    for (let col = 0; col < ink.width; col++) {
      const x = ink.left + col;
      if (x < 0 || x >= rWidth) continue;
      data[y * rWidth + x] = ink.data[row * ink.width + col];
    }
  }
  return { width: rWidth, height: rHeight, left: rLeft, top: rTop, data, layout };
}
