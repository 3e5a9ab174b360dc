/** Pack LZW codes LSB-first into GIF sub-blocks (for hand-built GIFs in tests). */
export function lzw(minCodeSize: number, codes: readonly [code: number, bits: number][]): Uint8Array {
  const bytes: number[] = [];
  let cur = 0, shift = 0;
  for (const [code, bits] of codes) {
    cur |= code << shift;
    shift += bits;
    while (shift >= 8) { bytes.push(cur & 255); cur >>= 8; shift -= 8; }
  }
  if (shift > 0) bytes.push(cur & 255);
  return new Uint8Array([minCodeSize, bytes.length, ...bytes, 0]);
}
