/**
 * Single-line text layout: code points to glyphs with per-character font fallback, ligatures (through
 * opentype.js's GSUB support) and pair kerning (GPOS, or the legacy `kern` table).
 */
import type { Glyph, KerningLookups, PathCommand } from 'opentype.js/dist/opentype.mjs';
import type { LoadedFont } from './font.js';

export interface PositionedGlyph {
  readonly font: LoadedFont;
  readonly glyph: Glyph;
  /** Pen position of the glyph's origin, in pixels from the start of the line. */
  readonly x: number;
  /** True when no font in the chain has the character: the glyph drawn is a missing-glyph box. */
  readonly missing: boolean;
}

export interface TextLayout {
  readonly size: number;
  readonly glyphs: readonly PositionedGlyph[];
  /** Total advance width in pixels. */
  readonly advance: number;
  /** Distance from the top of the line to the baseline (the largest ascender of the fonts used). */
  readonly ascent: number;
  /** Distance from the baseline to the bottom of the line (the deepest descender), positive. */
  readonly descent: number;
}

const kerningCache = new WeakMap<LoadedFont, KerningLookups[] | null>();

function kerningLookups(loaded: LoadedFont): KerningLookups[] | null {
  let lookups = kerningCache.get(loaded);
  if (lookups === undefined) {
    const position = loaded.font.position;
    lookups = position.getKerningTables(position.getDefaultScriptName()) ?? null;
    if (lookups && lookups.length === 0) lookups = null;
    kerningCache.set(loaded, lookups);
  }
  return lookups;
}

function kerning(loaded: LoadedFont, left: Glyph, right: Glyph): number {
  const lookups = kerningLookups(loaded);
  return lookups ? loaded.font.position.getKerningValue(lookups, left.index, right.index) : loaded.font.getKerningValue(left, right);
}

/** Index of the first font in `fonts` that maps `char`, or undefined when none does. */
function fontFor(char: string, fonts: readonly LoadedFont[]): number | undefined {
  for (let i = 0; i < fonts.length; i++) if (fonts[i].font.charToGlyphIndex(char) > 0) return i;
  return undefined;
}

/**
 * Lay out `text` at `size` pixels per em. Each character comes from the first font in `fonts` that
 * has it (the caller's font, then the default), so a CJK-only font still shows Latin text; a
 * character no font has is drawn as the first font's missing-glyph box, never dropped.
 */
export function layoutText(text: string, size: number, fonts: readonly LoadedFont[]): TextLayout {
  // Runs of consecutive characters that share a font: shaping (ligatures, kerning) works per run.
  const runs: { font: number | undefined; text: string }[] = [];
  for (const char of text) {
    const font = fontFor(char, fonts);
    const last = runs[runs.length - 1];
    if (last && last.font === font) last.text += char;
    else runs.push({ font, text: char });
  }
  const glyphs: PositionedGlyph[] = [];
  let x = 0;
  const used = new Set<LoadedFont>();
  for (const run of runs) {
    const loaded = fonts[run.font ?? 0];
    used.add(loaded);
    const scale = size / loaded.font.unitsPerEm;
    if (run.font === undefined) {
      const glyph = missingGlyph(loaded);
      for (let i = Array.from(run.text).length; i > 0; i--) {
        glyphs.push({ font: loaded, glyph, x, missing: true });
        x += (glyph.advanceWidth || loaded.font.unitsPerEm * 0.6) * scale;
      }
      continue;
    }
    const shaped = loaded.font.stringToGlyphs(run.text);
    for (let i = 0; i < shaped.length; i++) {
      const glyph = shaped[i];
      const missing = glyph.index === 0;
      glyphs.push({ font: loaded, glyph: missing ? missingGlyph(loaded) : glyph, x, missing });
      x += (glyph.advanceWidth ?? 0) * scale;
      if (i + 1 < shaped.length) x += kerning(loaded, glyph, shaped[i + 1]) * scale;
    }
  }
  let ascent = 0, descent = 0;
  for (const loaded of used) {
    const scale = size / loaded.font.unitsPerEm;
    ascent = Math.max(ascent, loaded.font.ascender * scale);
    descent = Math.max(descent, -loaded.font.descender * scale);
  }
  return Object.freeze({ size, glyphs: Object.freeze(glyphs), advance: x, ascent, descent });
}

const missingGlyphs = new WeakMap<LoadedFont, Glyph>();

/**
 * The glyph drawn for a character no font has: the font's own .notdef when it has an outline (usually
 * a box), else a synthetic hollow box, because a blank would silently lose text.
 */
function missingGlyph(loaded: LoadedFont): Glyph {
  let glyph = missingGlyphs.get(loaded);
  if (!glyph) {
    const notdef = loaded.font.glyphs.get(0);
    const em = loaded.font.unitsPerEm;
    glyph = notdef && notdef.path.commands.length > 0 ? notdef : { index: 0, advanceWidth: notdef?.advanceWidth || em * 0.6, path: { commands: boxCommands(em) } };
    missingGlyphs.set(loaded, glyph);
  }
  return glyph;
}

/**
 * The outline of a hollow box in font units (y up). The inner contour runs the other way so the
 * non-zero rule leaves it empty.
 */
function boxCommands(unitsPerEm: number): PathCommand[] {
  const l = unitsPerEm * 0.08, r = unitsPerEm * 0.52, b = 0, t = unitsPerEm * 0.7, w = unitsPerEm * 0.06;
  return [
    { type: 'M', x: l, y: b }, { type: 'L', x: r, y: b }, { type: 'L', x: r, y: t }, { type: 'L', x: l, y: t }, { type: 'Z' },
    { type: 'M', x: l + w, y: b + w }, { type: 'L', x: l + w, y: t - w }, { type: 'L', x: r - w, y: t - w }, { type: 'L', x: r - w, y: b + w }, { type: 'Z' },
  ];
}
