/**
 * The slice of opentype.js (2.x, which ships no type declarations) that imgpipe's text code uses.
 * Declared narrowly on purpose: anything not listed here is not relied upon.
 *
 * imgpipe imports the package's ES module build by path: the package has no "exports" map and its
 * "main" is a UMD bundle whose named exports Node's ESM loader cannot see, while bundlers would pick
 * the ES build through "module". Naming the ES build makes every runtime load the same file.
 */
declare module 'opentype.js/dist/opentype.mjs' {
  /** One outline command in font units, y pointing up (the font's own coordinate system). */
  export type PathCommand =
    | { type: 'M'; x: number; y: number }
    | { type: 'L'; x: number; y: number }
    | { type: 'Q'; x1: number; y1: number; x: number; y: number }
    | { type: 'C'; x1: number; y1: number; x2: number; y2: number; x: number; y: number }
    | { type: 'Z' };

  export interface Path {
    commands: PathCommand[];
  }

  export interface Glyph {
    index: number;
    name?: string | null;
    unicode?: number;
    advanceWidth?: number;
    /** The outline in font units (loaded lazily for TrueType fonts). */
    path: Path;
  }

  export interface GlyphSet {
    length: number;
    get(index: number): Glyph | undefined;
  }

  export interface KerningLookups {
    readonly __kerningLookups: unique symbol;
  }

  export interface Position {
    getDefaultScriptName(): string | undefined;
    getKerningTables(script?: string, language?: string): KerningLookups[] | undefined;
    getKerningValue(lookups: KerningLookups[], leftIndex: number, rightIndex: number): number;
  }

  export interface Font {
    unitsPerEm: number;
    /** From the maxp table; `glyphs.length` stays 0 until glyphs are loaded in lowMemory mode. */
    numGlyphs: number;
    ascender: number;
    descender: number;
    glyphs: GlyphSet;
    position: Position;
    tables: { os2?: { sTypoLineGap?: number }; hhea?: { lineGap?: number } };
    stringToGlyphs(text: string): Glyph[];
    charToGlyphIndex(char: string): number;
    getKerningValue(left: Glyph | number, right: Glyph | number): number;
  }

  export function parse(buffer: ArrayBuffer | Uint8Array, options?: { lowMemory?: boolean }): Font;
}
