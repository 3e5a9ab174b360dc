// The marker segments libjpeg's jcmarker.c writes for a baseline file, in its order: SOI, DQT per
// table, SOF0, then DHT for each table the scan uses (DC before AC, component by component, each
// once), SOS. No APP0/JFIF segment: sharp (libvips 8.18) writes none for an image without
// metadata, and leaving it out keeps the files byte-identical.
import { NATURAL_ORDER, TABLE_BYTES, QUANT } from './tables';
import { writeTableBody, symbolCount } from './huffman';

// @ts-ignore: decorator
@inline function u16be(p: usize, v: i32): void {
  store<u8>(p, <u8>(v >> 8));
  store<u8>(p + 1, <u8>v);
}

export function writeSOI(p: usize): usize {
  u16be(p, 0xffd8);
  return p + 2;
}

export function writeEOI(p: usize): usize {
  u16be(p, 0xffd9);
  return p + 2;
}

/** DQT for quantisation table `n` (8-bit precision, values in zigzag order). */
export function writeDQT(p: usize, n: i32): usize {
  u16be(p, 0xffdb);
  u16be(p + 2, 67);
  store<u8>(p + 4, <u8>n);
  const t = QUANT + <usize>n * TABLE_BYTES;
  for (let k: usize = 0; k < 64; k++) store<u8>(p + 5 + k, load<u8>(t + <usize>load<u8>(NATURAL_ORDER + k)));
  return p + 69;
}

/** SOF0 with components 1..n; `lumaSampling` is Y's (h << 4 | v), the others are 1x1. */
export function writeSOF0(p: usize, width: i32, height: i32, components: i32, lumaSampling: i32): usize {
  u16be(p, 0xffc0);
  u16be(p + 2, 8 + 3 * components);
  store<u8>(p + 4, 8);
  u16be(p + 5, height);
  u16be(p + 7, width);
  store<u8>(p + 9, <u8>components);
  let q = p + 10;
  for (let c = 0; c < components; c++) {
    store<u8>(q, <u8>(c + 1));
    store<u8>(q + 1, <u8>(c == 0 ? lumaSampling : 0x11));
    store<u8>(q + 2, <u8>(c == 0 ? 0 : 1));
    q += 3;
  }
  return q;
}

/** DHT for one table: `cls` 0 = DC, 1 = AC. */
export function writeDHT(p: usize, table: usize, cls: i32, id: i32): usize {
  u16be(p, 0xffc4);
  u16be(p + 2, 2 + 1 + 16 + symbolCount(table));
  store<u8>(p + 4, <u8>((cls << 4) | id));
  return writeTableBody(table, p + 5);
}

/** SOS covering components 1..n, full spectral range, no successive approximation. */
export function writeSOS(p: usize, components: i32): usize {
  u16be(p, 0xffda);
  u16be(p + 2, 6 + 2 * components);
  store<u8>(p + 4, <u8>components);
  let q = p + 5;
  for (let c = 0; c < components; c++) {
    store<u8>(q, <u8>(c + 1));
    store<u8>(q + 1, <u8>(c == 0 ? 0x00 : 0x11));
    q += 2;
  }
  store<u8>(q, 0);
  store<u8>(q + 1, 63);
  store<u8>(q + 2, 0);
  return q + 3;
}
