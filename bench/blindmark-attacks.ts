/**
 * The blind watermark's attack matrix: each attack takes the delivered file (imgpipe's own JPEG or WebP) and
 * returns the pixels a leak would show, made with sharp (libvips) so the attacker's tools are not ours.
 * Deterministic: every parameter is fixed or derived from the attack's own seed. Used by bench/blindmark.ts
 * and by the test that runs a slice of it.
 */
import sharp, { type Sharp } from 'sharp';
import type { RGBAImage } from '../src/image.js';
import { rng } from './fuzz.js';

export type AttackClass = 'A' | 'B' | 'C' | 'D' | 'E';
export interface Attack {
  readonly name: string;
  /** The goal row of the matrix: A/B/C need 99% exact recovery, D and E 95%. */
  readonly cls: AttackClass;
  readonly apply: (delivered: Uint8Array, seed: number) => Promise<RGBAImage>;
}

export async function pixels(s: Sharp): Promise<RGBAImage> {
  const { data, info } = await s.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`expected RGBA from sharp, got ${info.channels} channels`);
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

export const fromPixels = (image: RGBAImage): Sharp =>
  sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 4 } });

const decoded = (bytes: Uint8Array): Sharp => sharp(bytes);
const meta = async (bytes: Uint8Array) => { const m = await sharp(bytes).metadata(); return { w: m.width ?? 0, h: m.height ?? 0 }; };
const reencode = async (s: Sharp, f: 'png' | 'jpeg90'): Promise<Sharp> =>
  sharp(f === 'png' ? await s.png().toBuffer() : await s.jpeg({ quality: 90 }).toBuffer());

/** Per-pixel edit of RGB on the decoded pixels. */
async function mapPixels(bytes: Uint8Array, f: (r: number, g: number, b: number, out: Float64Array) => void): Promise<RGBAImage> {
  const img = await pixels(decoded(bytes));
  const out = new Uint8ClampedArray(img.data.length), tmp = new Float64Array(3);
  for (let p = 0; p < out.length; p += 4) {
    f(img.data[p], img.data[p + 1], img.data[p + 2], tmp);
    out[p] = Math.round(tmp[0]); out[p + 1] = Math.round(tmp[1]); out[p + 2] = Math.round(tmp[2]); out[p + 3] = 255;
  }
  return { width: img.width, height: img.height, data: out };
}

/** A crop keeping `area` of the image (at least 256x256) at a seeded offset. */
async function cropArea(bytes: Uint8Array, seed: number, area: number): Promise<RGBAImage> {
  const { w, h } = await meta(bytes);
  const r = rng(seed);
  const cw = Math.min(w, Math.max(256, Math.round(w * Math.sqrt(area)))), ch = Math.min(h, Math.max(256, Math.round(h * Math.sqrt(area))));
  const left = Math.floor(r() * (w - cw + 1)), top = Math.floor(r() * (h - ch + 1));
  return pixels(decoded(bytes).extract({ left, top, width: cw, height: ch }));
}

export const ATTACKS: readonly Attack[] = [
  { name: 'none', cls: 'A', apply: (b) => pixels(decoded(b)) },
  { name: 'jpeg q50 4:2:0', cls: 'A', apply: async (b) => pixels(sharp(await decoded(b).jpeg({ quality: 50, chromaSubsampling: '4:2:0' }).toBuffer())) },
  { name: 'webp q60', cls: 'A', apply: async (b) => pixels(sharp(await decoded(b).webp({ quality: 60 }).toBuffer())) },
  { name: 'resize 0.5x', cls: 'B', apply: async (b) => { const { w } = await meta(b); return pixels(decoded(b).resize({ width: Math.round(w * 0.5) })); } },
  { name: 'resize 0.75x', cls: 'B', apply: async (b) => { const { w } = await meta(b); return pixels(decoded(b).resize({ width: Math.round(w * 0.75) })); } },
  { name: 'resize 2x', cls: 'B', apply: async (b) => { const { w } = await meta(b); return pixels(decoded(b).resize({ width: w * 2 })); } },
  { name: 'crop 50% area', cls: 'B', apply: (b, s) => cropArea(b, s, 0.5) },
  { name: 'crop 25% area', cls: 'B', apply: (b, s) => cropArea(b, s, 0.25) },
  { name: 'brightness +30%', cls: 'C', apply: (b) => mapPixels(b, (r, g, bl, o) => { o[0] = r * 1.3; o[1] = g * 1.3; o[2] = bl * 1.3; }) },
  { name: 'brightness -30%', cls: 'C', apply: (b) => mapPixels(b, (r, g, bl, o) => { o[0] = r * 0.7; o[1] = g * 0.7; o[2] = bl * 0.7; }) },
  { name: 'contrast 1.5', cls: 'C', apply: (b) => mapPixels(b, (r, g, bl, o) => { o[0] = 128 + (r - 128) * 1.5; o[1] = 128 + (g - 128) * 1.5; o[2] = 128 + (bl - 128) * 1.5; }) },
  { name: 'contrast 0.7', cls: 'C', apply: (b) => mapPixels(b, (r, g, bl, o) => { o[0] = 128 + (r - 128) * 0.7; o[1] = 128 + (g - 128) * 0.7; o[2] = 128 + (bl - 128) * 0.7; }) },
  { name: 'greyscale', cls: 'C', apply: (b) => mapPixels(b, (r, g, bl, o) => { o[0] = o[1] = o[2] = 0.2126 * r + 0.7152 * g + 0.0722 * bl; }) },
  { name: 'hue shift 90°', cls: 'C', apply: async (b) => pixels(decoded(b).modulate({ hue: 90 })) },
  { name: 'gamma 0.8', cls: 'C', apply: (b) => mapPixels(b, (r, g, bl, o) => { o[0] = 255 * (r / 255) ** 0.8; o[1] = 255 * (g / 255) ** 0.8; o[2] = 255 * (bl / 255) ** 0.8; }) },
  { name: 'gamma 1.25', cls: 'C', apply: (b) => mapPixels(b, (r, g, bl, o) => { o[0] = 255 * (r / 255) ** 1.25; o[1] = 255 * (g / 255) ** 1.25; o[2] = 255 * (bl / 255) ** 1.25; }) },
  {
    name: 'doodles 20%', cls: 'C', apply: async (b, s) => {
      // opaque strokes of random colours covering about a fifth of the picture
      const img = await pixels(decoded(b));
      const r = rng(s), { width: w, height: h } = img, d = img.data;
      let covered = 0;
      const mark = new Uint8Array(w * h);
      while (covered < 0.2 * w * h) {
        const x0 = r() * w, y0 = r() * h, ang = r() * Math.PI, len = (0.2 + 0.5 * r()) * w, thick = 6 + r() * 18;
        const col = [r() * 255, r() * 255, r() * 255];
        for (let t = 0; t < len; t += 1) {
          const cx = x0 + Math.cos(ang) * t, cy = y0 + Math.sin(ang) * t;
          for (let dy = -thick / 2; dy < thick / 2; dy++) for (let dx = -thick / 2; dx < thick / 2; dx++) {
            const x = Math.round(cx + dx), y = Math.round(cy + dy);
            if (x < 0 || y < 0 || x >= w || y >= h) continue;
            const i = y * w + x;
            if (!mark[i]) { mark[i] = 1; covered++; }
            d[i * 4] = col[0]; d[i * 4 + 1] = col[1]; d[i * 4 + 2] = col[2];
          }
        }
      }
      return img;
    },
  },
  { name: 'jpeg q30', cls: 'D', apply: async (b) => pixels(sharp(await decoded(b).jpeg({ quality: 30 }).toBuffer())) },
  { name: 'rotate 2°', cls: 'D', apply: async (b) => pixels(sharp(await decoded(b).png().toBuffer()).rotate(2, { background: '#ffffff' })) },
  { name: 'rotate -5°', cls: 'D', apply: async (b) => pixels(sharp(await decoded(b).png().toBuffer()).rotate(-5, { background: '#000000' })) },
  { name: 'rotate 90°', cls: 'D', apply: (b) => pixels(decoded(b).rotate(90)) },
  { name: 'mirror', cls: 'D', apply: (b) => pixels(decoded(b).flop()) },
  {
    name: 'noise σ5', cls: 'D', apply: (b, s) => {
      const r = rng(s);
      const gauss = (): number => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
      return mapPixels(b, (red, g, bl, o) => { o[0] = red + 5 * gauss(); o[1] = g + 5 * gauss(); o[2] = bl + 5 * gauss(); });
    },
  },
  { name: 'blur σ1', cls: 'D', apply: (b) => pixels(decoded(b).blur(1)) },
  { name: 'screenshot 0.8x png', cls: 'D', apply: async (b) => { const { w } = await meta(b); return pixels(await reencode(decoded(b).resize({ width: Math.round(w * 0.8) }), 'png')); } },
  { name: 'screenshot 1.25x jpeg90', cls: 'D', apply: async (b) => { const { w } = await meta(b); return pixels(await reencode(decoded(b).resize({ width: Math.round(w * 1.25) }), 'jpeg90')); } },
  {
    name: 'chain 1080+q80+crop10%+bright1.1', cls: 'E', apply: async (b, s) => {
      const { w, h } = await meta(b);
      const long = Math.max(w, h), f = 1080 / long;
      const jpg = await decoded(b).resize({ width: Math.round(w * f), height: Math.round(h * f) }).jpeg({ quality: 80 }).toBuffer();
      const m = await meta(jpg), r = rng(s);
      const cw = Math.round(m.w * 0.9), ch = Math.round(m.h * 0.9);
      const left = Math.floor(r() * (m.w - cw)), top = Math.floor(r() * (m.h - ch));
      return pixels(sharp(jpg).extract({ left, top, width: cw, height: ch }).linear(1.1, 0));
    },
  },
];
