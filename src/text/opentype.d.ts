/**
 * The slice of opentype.js (2.x, which ships no type declarations) that imgpipe's text code uses.
 * Declared narrowly on purpose: anything not listed here is not relied upon.
 */
declare module 'opentype.js' {
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
