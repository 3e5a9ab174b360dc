/**
 * The blind watermark's channel code: CRC-24 (OpenPGP's polynomial) over the payload, then a rate-1/2
 * convolutional code (constraint length 7, generators 171/133 octal, the one used by Voyager, 802.11 and
 * DVB) with a zero tail, decoded by a soft-decision Viterbi decoder. Soft decisions matter here: each
 * coded bit is a sum of many noisy correlations, and its size says how much to trust it.
 */
const G1 = 0o171, G2 = 0o133, K = 7, STATES = 1 << (K - 1);

export function crc24(bits: Uint8Array): number {
  let crc = 0xb704ce;
  for (const bit of bits) {
    const top = ((crc >>> 23) & 1) ^ bit;
    crc = (crc << 1) & 0xffffff;
    if (top) crc ^= 0x864cfb;
  }
  return crc;
}

function parity(x: number): number {
  x ^= x >>> 4; x ^= x >>> 2; x ^= x >>> 1;
  return x & 1;
}

/** Number of coded bits for `n` message bits (with the 6-bit zero tail). */
export const codedLength = (n: number): number => 2 * (n + K - 1);

export function convEncode(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(codedLength(bits.length));
  let reg = 0;
  for (let i = 0; i < bits.length + K - 1; i++) {
    const b = i < bits.length ? bits[i] : 0;
    reg = ((reg << 1) | b) & 0x7f;
    out[2 * i] = parity(reg & G1);
    out[2 * i + 1] = parity(reg & G2);
  }
  return out;
}

/**
 * Soft Viterbi: `soft[i] > 0` means coded bit i is more likely 1. Returns the `n` message bits of the path
 * with the largest correlation with the soft values, ending in state 0 (the tail).
 */
export function viterbi(soft: Float64Array, n: number): Uint8Array {
  const steps = n + K - 1;
  let metric = new Float64Array(STATES).fill(-Infinity);
  metric[0] = 0;
  let next = new Float64Array(STATES);
  const from = new Uint8Array(steps * STATES);
  const out1 = new Uint8Array(2 * STATES), out2 = new Uint8Array(2 * STATES);
  for (let s = 0; s < STATES; s++) {
    for (let b = 0; b < 2; b++) {
      const reg = (s << 1) | b;
      out1[s * 2 + b] = parity(reg & G1);
      out2[s * 2 + b] = parity(reg & G2);
    }
  }
  for (let t = 0; t < steps; t++) {
    next.fill(-Infinity);
    const s1 = soft[2 * t], s2 = soft[2 * t + 1];
    const bits = t < n ? 2 : 1;
    for (let s = 0; s < STATES; s++) {
      const m = metric[s];
      if (m === -Infinity) continue;
      for (let b = 0; b < bits; b++) {
        const ns = ((s << 1) | b) & (STATES - 1);
        const v = m + (out1[s * 2 + b] ? s1 : -s1) + (out2[s * 2 + b] ? s2 : -s2);
        if (v > next[ns]) { next[ns] = v; from[t * STATES + ns] = s; }
      }
    }
    const tmp = metric; metric = next; next = tmp;
  }
  const bits = new Uint8Array(steps);
  let s = 0;
  for (let t = steps - 1; t >= 0; t--) {
    bits[t] = s & 1;
    s = from[t * STATES + s];
  }
  return bits.subarray(0, n);
}
