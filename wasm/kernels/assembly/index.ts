// imgpipe's resize kernels: separable Lanczos3 (a = 3) on 8-bit RGBA with WebAssembly SIMD.
//
// Calling convention (see src/kernels/lanczos.ts): reset(), alloc() the source, copy RGBA bytes
// into it, then resize() returns a pointer to the destination RGBA bytes, valid until the next
// reset(). Nothing is imported; the module owns and exports its memory.
import { alloc, reset } from './memory';
import { makeTable, tableTaps } from './weights';
import { horizontalU8, horizontalQ6 } from './horizontal';
import { vertical } from './vertical';
import { boxShrink } from './box';
import { ensureLinearTables, expand, finish } from './convert';

export { alloc, reset };

/** Filter in linear light instead of on gamma-encoded values. */
export const FLAG_LINEAR: i32 = 1;

// The tables are small (about 16 KB) and needed by any linear resize: build them at instantiation,
// before any per-call allocation, so they live below the reset point.
ensureLinearTables();

/** True when every pixel's alpha is 255 (then premultiplication would change nothing). */
function opaque(src: usize, pixels: i32): bool {
  const bytes = <usize>pixels << 2;
  let all = i8x16.splat(-1);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) all = v128.and(all, v128.load(src + i));
  for (; i < bytes; i += 4) if (load<u8>(src + i + 3) != 255) return false;
  // Alpha is every fourth byte: keep only those lanes and check they stayed all ones.
  return i32x4.all_true(i32x4.eq(v128.or(all, i32x4.splat(0x00ffffff)), i32x4.splat(-1)));
}

/** libvips' choice of integer pre-shrink for a reduction by `factor`: leave 2..4x to the filter. */
function preShrink(factor: f64): i32 {
  const k = <i32>Math.floor(factor / 2.0);
  return k > 1 ? k : 1;
}

/**
 * Resize `sw` x `sh` RGBA at `src` to `dw` x `dh`. Returns the destination pointer.
 */
export function resize(src: usize, sw: i32, sh: i32, dw: i32, dh: i32, flags: i32): usize {
  const linear = (flags & FLAG_LINEAR) != 0;
  const premultiply = !opaque(src, sw * sh);
  const wide = linear || premultiply;
  const fx = <f64>sw / <f64>dw;
  const fy = <f64>sh / <f64>dh;
  const kx = preShrink(fx);
  const ky = preShrink(fy);

  let cur = src;
  let curQ6 = false;
  let cw = sw;
  let ch = sh;
  if (wide) {
    const q = alloc(<usize>sw * sh * 8);
    expand(src, sw * sh, q, premultiply, linear);
    cur = q;
    curQ6 = true;
  }
  if (kx > 1 || ky > 1) {
    const bw = (sw + kx - 1) / kx;
    const bh = (sh + ky - 1) / ky;
    const b = alloc(<usize>bw * bh * 8);
    boxShrink(cur, cw, ch, curQ6, kx, ky, b, bw, bh);
    cur = b;
    curQ6 = true;
    cw = bw;
    ch = bh;
  }

  // Horizontal first, then vertical: the vertical pass reads whole rows and vectorises along them.
  const hTable = makeTable(cw, dw, fx / <f64>kx, 4);
  const hTaps = tableTaps;
  const mid = alloc(<usize>dw * ch * 8);
  if (curQ6) horizontalQ6(cur, cw, ch, mid, dw, hTable, hTaps);
  else horizontalU8(cur, cw, ch, mid, dw, hTable, hTaps);

  const vTable = makeTable(ch, dh, fy / <f64>ky, 2);
  const vTaps = tableTaps;
  const out = alloc(<usize>dw * dh * 4);
  if (wide) {
    const q = alloc(<usize>dw * dh * 8);
    vertical(mid, dw * 4, ch, q, dh, vTable, vTaps, false);
    finish(q, dw * dh, out, premultiply, linear);
  } else {
    vertical(mid, dw * 4, ch, out, dh, vTable, vTaps, true);
  }
  return out;
}
