/**
 * The blind watermark's channel code: CRC-24 (OpenPGP's polynomial) over the payload, then a rate-1/2
 * convolutional code (constraint length 7, generators 171/133 octal, the one used by Voyager, 802.11 and
 * DVB) with a zero tail, decoded by a soft-decision list Viterbi decoder whose candidates the CRC picks
 * from. Soft decisions matter here: each coded bit is a sum of many noisy correlations, and its size says
 * how much to trust it.
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
 * List Viterbi (the parallel list Viterbi algorithm): `soft[i] > 0` means coded bit i is more likely 1.
 * Returns the message bits (`n` each) of the `list` paths with the largest correlation with the soft values
 * that end in state 0 (the tail), best first; the first is plain soft Viterbi's answer. The caller keeps the
 * first that passes the CRC: when noise has pushed the right path just below a wrong one, the right one is
 * usually among the next few, which is worth about a decibel on a frame this short, for `list` times the CRC
 * checks (each a 2^-24 chance of a false match).
 */
export function listViterbi(soft: Float64Array, n: number, list: number): Uint8Array[] {
  const L = list, steps = n + K - 1;
  let metric = new Float64Array(STATES * L), count = new Int32Array(STATES);
  let next = new Float64Array(STATES * L), nextCount = new Int32Array(STATES);
  metric[0] = 0; count[0] = 1;
  // per step, state and rank: the predecessor state and its rank
  const fromState = new Uint8Array(steps * STATES * L), fromRank = new Uint16Array(steps * STATES * L);
  const out1 = new Uint8Array(2 * STATES), out2 = new Uint8Array(2 * STATES);
  for (let s = 0; s < STATES; s++) {
    for (let b = 0; b < 2; b++) {
      const reg = (s << 1) | b;
      out1[s * 2 + b] = parity(reg & G1);
      out2[s * 2 + b] = parity(reg & G2);
    }
  }
  for (let t = 0; t < steps; t++) {
    const s1 = soft[2 * t], s2 = soft[2 * t + 1];
    for (let ns = 0; ns < STATES; ns++) {
      const b = ns & 1;
      nextCount[ns] = 0;
      if (t >= n && b) continue; // the tail shifts in zeros
      // the two states that lead to ns, each with its list sorted best first: merge them
      const p = ns >> 1, q = p | (STATES >> 1);
      const bp = (out1[p * 2 + b] ? s1 : -s1) + (out2[p * 2 + b] ? s2 : -s2);
      const bq = (out1[q * 2 + b] ? s1 : -s1) + (out2[q * 2 + b] ? s2 : -s2);
      let i = 0, j = 0, c = 0;
      const np = count[p], nq = count[q], at = (t * STATES + ns) * L;
      while (c < L && (i < np || j < nq)) {
        const vp = i < np ? metric[p * L + i] + bp : -Infinity, vq = j < nq ? metric[q * L + j] + bq : -Infinity;
        if (vp >= vq) { next[ns * L + c] = vp; fromState[at + c] = p; fromRank[at + c] = i++; }
        else { next[ns * L + c] = vq; fromState[at + c] = q; fromRank[at + c] = j++; }
        c++;
      }
      nextCount[ns] = c;
    }
    const tmp = metric; metric = next; next = tmp;
    const tc = count; count = nextCount; nextCount = tc;
  }
  const paths: Uint8Array[] = [];
  for (let r = 0; r < count[0]; r++) {
    const bits = new Uint8Array(steps);
    let s = 0, rank = r;
    for (let t = steps - 1; t >= 0; t--) {
      bits[t] = s & 1;
      const at = (t * STATES + s) * L + rank;
      s = fromState[at]; rank = fromRank[at];
    }
    paths.push(bits.subarray(0, n));
  }
  return paths;
}
