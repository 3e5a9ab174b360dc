/**
 * A HEIF (HEIC) file's header, read from its ISOBMFF `meta` box alone: which item is the primary
 * image, its coded type, its size (`ispe`), the transforms a decoder applies (`clap`, `irot`,
 * `imir`), its colour (`colr`), whether an alpha auxiliary image belongs to it, and, for a grid
 * primary, the grid's layout and tiles. No pixel is decoded and nothing is allocated from a declared
 * size, so a HEIC bomb is refused from these numbers like a JPEG one (src/limits.ts), and `inspect()`
 * reports a HEIC's dimensions without the decoding plug-in.
 *
 * The reader walks only the boxes it needs, each bounded by its parent, and every count is checked
 * against the bytes that remain: a damaged or hostile file costs at most one pass over its meta box.
 * References: ISO/IEC 14496-12 (boxes), ISO/IEC 23008-12 (HEIF items, properties, grids).
 */
import { ImgpipeError } from '../errors.js';

export interface HeifHeader {
  /** The `ftyp` major brand and compatible brands. */
  readonly brands: readonly string[];
  /** The primary item's type: `hvc1` (HEVC), `grid`, `av01` (AV1), `jpeg`, ... */
  readonly itemType: string;
  /** For a grid: the coded type of its tiles. */
  readonly tileType?: string;
  /** Width and height as displayed: `ispe`, cropped by `clap`, sides swapped by a quarter `irot`. */
  readonly width: number;
  readonly height: number;
  /** Width and height the decoder allocates before its transforms (the `ispe` box). */
  readonly codedWidth: number;
  readonly codedHeight: number;
  /** Counter-clockwise rotation in quarter turns (`irot`), and the mirror axis (`imir`: 0 vertical, 1 horizontal). */
  readonly rotation: number;
  readonly mirror?: number;
  /**
   * The clean aperture (`clap`) as a rectangle of the coded image, when one crops it. libheif applies
   * it itself; libavif leaves it (and `irot`/`imir`) to the caller, so the AVIF plug-in reads it here.
   */
  readonly crop?: Readonly<{ left: number; top: number; width: number; height: number }>;
  /** Whether an alpha auxiliary image belongs to the primary image. */
  readonly alpha: boolean;
  /** Bits per channel from `pixi`, 8 when absent. */
  readonly bitDepth: number;
  /** The ICC profile (`colr` of type `prof` or `rICC`) as [offset, length] in the file. */
  readonly icc?: readonly [number, number];
  /** nclx colour values: primaries, transfer, matrix, full range. */
  readonly nclx?: readonly [number, number, number, number];
  /** EXIF bytes of the first `Exif` item describing the primary image (0 without). */
  readonly exifBytes: number;
  /** A grid primary's layout; tiles are all of `tile` size. */
  readonly grid?: Readonly<{ rows: number; columns: number; tiles: number; tileWidth: number; tileHeight: number }>;
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const fourcc = (b: Uint8Array, o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);

function corrupt(what: string): ImgpipeError {
  return new ImgpipeError('CORRUPT_IMAGE', `Expected a valid HEIF header but ${what}`);
}

interface Box {
  readonly type: string;
  /** Payload start and end (after the size/type header, before the next box). */
  readonly start: number;
  readonly end: number;
}

/** The boxes between `start` and `end`; a box that runs past its parent is damage. */
function boxes(b: Uint8Array, start: number, end: number, where: string): Box[] {
  const out: Box[] = [];
  let o = start;
  while (o + 8 <= end) {
    let size = u32(b, o);
    const type = fourcc(b, o + 4);
    let header = 8;
    if (size === 1) {
      if (o + 16 > end) throw corrupt(`the ${type} box in ${where} at offset ${o} is cut short`);
      // A 64-bit size: the high word must be 0 for anything that fits in memory.
      if (u32(b, o + 8) !== 0) throw corrupt(`the ${type} box in ${where} at offset ${o} declares more than 4 GB`);
      size = u32(b, o + 12);
      header = 16;
    } else if (size === 0) {
      size = end - o; // to the end of the enclosing box
    }
    if (size < header || o + size > end) {
      // At the top level, a box running past the end is a file cut short (an interrupted upload).
      throw corrupt(`${where === 'the file' && size >= header ? 'it is truncated: its' : 'the'} ${type} box ${where === 'the file' ? '' : `in ${where} `}at offset ${o} declares ${size} bytes but ${end - o} remain`);
    }
    out.push({ type, start: o + header, end: o + size });
    o += size;
  }
  return out;
}

const find = (list: readonly Box[], type: string) => list.find((x) => x.type === type);

/** Throws unless `need` bytes remain in `box` from `o`. */
function need(box: Box, o: number, n: number): void {
  if (o + n > box.end) throw corrupt(`its ${box.type} box is cut short (${n} bytes needed at offset ${o}, it ends at ${box.end})`);
}

interface Extent { readonly offset: number; readonly length: number }
interface Location { readonly method: number; readonly extents: readonly Extent[] }

/** `iloc`: where each item's data lies (construction method 0: the file; 1: the `idat` box). */
function readIloc(b: Uint8Array, box: Box): Map<number, Location> {
  const map = new Map<number, Location>();
  need(box, box.start, 8);
  const version = b[box.start];
  let o = box.start + 4;
  const offsetSize = b[o] >> 4, lengthSize = b[o] & 15, baseSize = b[o + 1] >> 4, indexSize = version >= 1 ? b[o + 1] & 15 : 0;
  o += 2;
  for (const s of [offsetSize, lengthSize, baseSize, indexSize]) if (![0, 4, 8].includes(s)) throw corrupt(`its iloc box uses ${s}-byte fields`);
  const read = (size: number): number => {
    need(box, o, size);
    const v = size === 0 ? 0 : size === 4 ? u32(b, o) : u32(b, o) * 2 ** 32 + u32(b, o + 4);
    o += size;
    return v;
  };
  const read16 = (): number => {
    need(box, o, 2);
    o += 2;
    return u16(b, o - 2);
  };
  const count = version < 2 ? read16() : read(4);
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? read16() : read(4);
    let method = 0;
    if (version >= 1) method = read16() & 15;
    read16(); // data_reference_index
    const base = read(baseSize);
    const extentCount = read16();
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount; e++) {
      read(indexSize);
      const offset = base + read(offsetSize);
      extents.push({ offset, length: read(lengthSize) });
    }
    map.set(id, { method, extents });
  }
  return map;
}

/** An item's bytes joined (small items only: a grid's description); undefined when they lie outside the file. */
function itemData(b: Uint8Array, loc: Location | undefined, idat: Box | undefined, max: number): Uint8Array | undefined {
  if (!loc) return undefined;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const { offset, length } of loc.extents) {
    const base = loc.method === 1 ? idat?.start : loc.method === 0 ? 0 : undefined;
    const limit = loc.method === 1 ? idat?.end : b.length;
    if (base === undefined || limit === undefined) return undefined;
    // Length 0 means "to the end" of the file (or idat).
    const start = base + offset, end = length === 0 ? limit : start + length;
    if (end > limit || end - start > max - total) return undefined;
    parts.push(b.subarray(start, end));
    total += end - start;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Total length of an item's extents (0 when unknown). */
const itemLength = (loc: Location | undefined) => loc?.extents.reduce((n, e) => n + e.length, 0) ?? 0;

export function readHeifHeader(b: Uint8Array): HeifHeader {
  const top = boxes(b, 0, b.length, 'the file');
  const ftyp = find(top, 'ftyp');
  if (!ftyp || ftyp.end - ftyp.start < 8) throw corrupt('it has no ftyp box');
  const brands = [fourcc(b, ftyp.start)];
  for (let o = ftyp.start + 8; o + 4 <= ftyp.end; o += 4) brands.push(fourcc(b, o));
  const meta = find(top, 'meta');
  if (!meta) throw corrupt('it has no meta box (a HEIF image file describes its images there)');
  // meta is a full box: version and flags first.
  const children = boxes(b, meta.start + 4, meta.end, 'meta');

  const pitm = find(children, 'pitm');
  if (!pitm) throw corrupt('it names no primary image (no pitm box)');
  need(pitm, pitm.start, 6);
  const primary = b[pitm.start] === 0 ? u16(b, pitm.start + 4) : (need(pitm, pitm.start, 8), u32(b, pitm.start + 4));

  // iinf: item types. infe version 2 has 16-bit item ids, version 3 32-bit.
  const iinf = find(children, 'iinf');
  if (!iinf) throw corrupt('it has no item list (no iinf box)');
  need(iinf, iinf.start, 6);
  const types = new Map<number, string>();
  for (const infe of boxes(b, iinf.start + (b[iinf.start] === 0 ? 6 : 8), iinf.end, 'iinf')) {
    if (infe.type !== 'infe') continue;
    need(infe, infe.start, 4);
    const version = b[infe.start];
    if (version < 2) continue; // versions 0 and 1 describe no item type (files from before HEIF)
    const idSize = version === 2 ? 2 : 4;
    need(infe, infe.start + 4, idSize + 6);
    const id = idSize === 2 ? u16(b, infe.start + 4) : u32(b, infe.start + 4);
    types.set(id, fourcc(b, infe.start + 4 + idSize + 2));
  }
  const itemType = types.get(primary);
  if (itemType === undefined) throw corrupt(`its primary item ${primary} is not in its item list`);

  // iref: derivations (dimg: grid -> tiles), auxiliary images (auxl) and metadata (cdsc).
  const refs: { type: string; from: number; to: number[] }[] = [];
  const iref = find(children, 'iref');
  if (iref) {
    need(iref, iref.start, 4);
    const idSize = b[iref.start] === 0 ? 2 : 4;
    const id = (o: number) => (idSize === 2 ? u16(b, o) : u32(b, o));
    for (const ref of boxes(b, iref.start + 4, iref.end, 'iref')) {
      need(ref, ref.start, idSize + 2);
      const count = u16(b, ref.start + idSize);
      need(ref, ref.start + idSize + 2, count * idSize);
      const to = Array.from({ length: count }, (_, i) => id(ref.start + idSize + 2 + i * idSize));
      refs.push({ type: ref.type, from: id(ref.start), to });
    }
  }

  // iprp: the property boxes (ipco) and which belong to which item (ipma, 1-based indices).
  const iprp = find(children, 'iprp');
  if (!iprp) throw corrupt('it has no item properties (no iprp box)');
  const iprpChildren = boxes(b, iprp.start, iprp.end, 'iprp');
  const ipco = find(iprpChildren, 'ipco');
  if (!ipco) throw corrupt('it has no item properties (no ipco box)');
  const properties = boxes(b, ipco.start, ipco.end, 'ipco');
  const associations = new Map<number, Box[]>();
  for (const ipma of iprpChildren.filter((x) => x.type === 'ipma')) {
    need(ipma, ipma.start, 8);
    const version = b[ipma.start], wide = (b[ipma.start + 3] & 1) === 1;
    const count = u32(b, ipma.start + 4);
    let o = ipma.start + 8;
    for (let i = 0; i < count; i++) {
      need(ipma, o, (version < 1 ? 2 : 4) + 1);
      const id = version < 1 ? u16(b, o) : u32(b, o);
      o += version < 1 ? 2 : 4;
      const n = b[o++];
      need(ipma, o, n * (wide ? 2 : 1));
      const list = associations.get(id) ?? [];
      for (let a = 0; a < n; a++) {
        const index = wide ? u16(b, o + 2 * a) & 0x7fff : b[o + a] & 0x7f;
        if (index > properties.length) throw corrupt(`item ${id} is given property ${index} but there are ${properties.length}`);
        if (index > 0) list.push(properties[index - 1]);
      }
      o += n * (wide ? 2 : 1);
      associations.set(id, list);
    }
  }
  const props = (id: number) => associations.get(id) ?? [];
  const ispe = (id: number): [number, number] | undefined => {
    const box = find(props(id), 'ispe');
    if (!box) return undefined;
    need(box, box.start, 12);
    return [u32(b, box.start + 4), u32(b, box.start + 8)];
  };

  const own = props(primary);
  const coded = ispe(primary);
  if (!coded) throw corrupt(`its primary image (item ${primary}, ${itemType}) has no ispe (size) property`);
  const [codedWidth, codedHeight] = coded;
  if (codedWidth < 1 || codedHeight < 1) throw corrupt(`its primary image declares ${codedWidth}x${codedHeight} pixels`);

  // Transforms, in the order the decoder applies them (the order of the item's properties).
  let width = codedWidth, height = codedHeight, rotation = 0;
  let mirror: number | undefined;
  let crop: HeifHeader['crop'];
  for (const p of own) {
    if (p.type === 'clap') {
      need(p, p.start, 32);
      const frac = (o: number) => { const d = u32(b, o + 4); return d === 0 ? NaN : (u32(b, o) | 0) / d; };
      const w = frac(p.start), h = frac(p.start + 8);
      // libheif rounds the aperture's size to whole pixels within the image.
      if (!(w >= 1 && h >= 1)) throw corrupt(`its clap property crops to ${w}x${h} pixels`);
      width = Math.min(width, Math.round(w));
      height = Math.min(height, Math.round(h));
      // The aperture is centred on the image's centre moved by its offsets (ISO/IEC 14496-12 12.1.4),
      // rounded down as libheif does, and kept inside the image. MIAF puts clap before irot/imir, so it is in the coded image's coordinates.
      const cw = Math.min(codedWidth, Math.round(w)), ch = Math.min(codedHeight, Math.round(h));
      const at = (offset: number, side: number, kept: number, size: number) => {
        const v = Math.floor(offset + (side - 1) / 2 - (size - 1) / 2);
        return Number.isFinite(v) ? Math.max(0, Math.min(side - kept, v)) : 0;
      };
      crop = { left: at(frac(p.start + 16), codedWidth, cw, w), top: at(frac(p.start + 24), codedHeight, ch, h), width: cw, height: ch };
    } else if (p.type === 'irot') {
      need(p, p.start, 1);
      rotation = b[p.start] & 3;
      if (rotation % 2 === 1) [width, height] = [height, width];
    } else if (p.type === 'imir') {
      need(p, p.start, 1);
      mirror = b[p.start] & 1;
    }
  }

  let icc: [number, number] | undefined;
  let nclx: [number, number, number, number] | undefined;
  for (const colr of own.filter((p) => p.type === 'colr')) {
    need(colr, colr.start, 4);
    const kind = fourcc(b, colr.start);
    if ((kind === 'prof' || kind === 'rICC') && !icc) icc = [colr.start + 4, colr.end - colr.start - 4];
    if (kind === 'nclx' && !nclx) {
      need(colr, colr.start, 11);
      nclx = [u16(b, colr.start + 4), u16(b, colr.start + 6), u16(b, colr.start + 8), b[colr.start + 10] >> 7];
    }
  }
  const pixi = find(own, 'pixi');
  let bitDepth = 8;
  if (pixi) {
    need(pixi, pixi.start, 5);
    if (b[pixi.start + 4] > 0) { need(pixi, pixi.start + 5, 1); bitDepth = b[pixi.start + 5]; }
  }

  // An alpha image is an auxiliary item (auxl) pointing at the primary whose auxC names alpha.
  const alpha = refs.some((r) => r.type === 'auxl' && r.to.includes(primary) && props(r.from).some((p) => {
    if (p.type !== 'auxC') return false;
    const urn = String.fromCharCode(...b.subarray(p.start + 4, Math.min(p.end, p.start + 68)));
    return urn.startsWith('urn:mpeg:hevc:2015:auxid:1') || urn.startsWith('urn:mpeg:mpegB:cicp:systems:auxiliary:alpha');
  }));

  const ilocBox = find(children, 'iloc');
  const locations = ilocBox ? readIloc(b, ilocBox) : new Map<number, Location>();
  const exif = refs.find((r) => r.type === 'cdsc' && r.to.includes(primary) && types.get(r.from) === 'Exif');

  let grid: HeifHeader['grid'];
  let tileType: string | undefined;
  if (itemType === 'grid') {
    // ImageGrid: version, flags (bit 0: 32-bit sizes), rows - 1, columns - 1, output width, height.
    const data = itemData(b, locations.get(primary), find(children, 'idat'), 64);
    if (!data || data.length < 8) throw corrupt(`the description of its grid image (item ${primary}) is missing or outside the file`);
    const rows = data[2] + 1, columns = data[3] + 1;
    const wide = (data[1] & 1) === 1;
    if (wide && data.length < 12) throw corrupt('the description of its grid image is cut short');
    const outW = wide ? u32(data, 4) : u16(data, 4), outH = wide ? u32(data, 8) : u16(data, 6);
    const tiles = refs.find((r) => r.type === 'dimg' && r.from === primary)?.to ?? [];
    if (tiles.length !== rows * columns) throw corrupt(`its ${columns}x${rows} grid image references ${tiles.length} tiles`);
    const tileSize = ispe(tiles[0]);
    if (!tileSize) throw corrupt(`the first tile of its grid image (item ${tiles[0]}) has no ispe (size) property`);
    for (const t of tiles) {
      const s = ispe(t);
      if (!s || s[0] !== tileSize[0] || s[1] !== tileSize[1]) throw corrupt(`the tiles of its grid image differ in size (item ${t}: ${s ? s.join('x') : 'no ispe'}, the first ${tileSize.join('x')})`);
    }
    if (tileSize[0] * columns < outW || tileSize[1] * rows < outH) {
      throw corrupt(`its grid's ${columns}x${rows} tiles of ${tileSize.join('x')} pixels do not cover its ${outW}x${outH} canvas`);
    }
    if (outW !== codedWidth || outH !== codedHeight) throw corrupt(`its grid declares ${outW}x${outH} pixels but its ispe ${codedWidth}x${codedHeight}`);
    tileType = types.get(tiles[0]);
    grid = Object.freeze({ rows, columns, tiles: tiles.length, tileWidth: tileSize[0], tileHeight: tileSize[1] });
  }

  return Object.freeze({
    brands, itemType, tileType, width, height, codedWidth, codedHeight, rotation, mirror, crop, alpha, bitDepth, icc, nclx,
    exifBytes: exif ? itemLength(locations.get(exif.from)) : 0, grid,
  });
}

/**
 * Refuses a HEIF whose primary image (or, for a grid, its tiles) is not coded as `coding` (`hvc1`
 * for HEIC, `av01` for AVIF): a JPEG- or HEVC-in-AVIF item is an unsupported format, not damage.
 */
export function requireCoding(heif: HeifHeader, file: string, codec: string, coding: string): void {
  const coded = heif.grid ? heif.tileType ?? '' : heif.itemType;
  if (coded === coding) return;
  throw new ImgpipeError(
    'UNSUPPORTED_FORMAT',
    `Expected ${file} whose primary image is ${codec}-coded (${coding}) but received one coded as ${JSON.stringify(coded)}${heif.grid ? ' (grid tiles)' : ''}`,
    { details: { received: coded } },
  );
}
