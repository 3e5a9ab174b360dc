/**
 * OSS's average-hue: the image's mean colour as `0xRRGGBB`. Each pixel counts by its alpha, so
 * transparent areas (whose RGB is meaningless) do not pull the answer towards black.
 */
import type { RGBAImage } from '../image.js';

export function averageHue(image: RGBAImage): { r: number; g: number; b: number; hex: string } {
  const d = image.data;
  let r = 0, g = 0, b = 0, a = 0;
  for (let i = 0; i < d.length; i += 4) {
    const w = d[i + 3];
    r += d[i] * w; g += d[i + 1] * w; b += d[i + 2] * w; a += w;
  }
  const mean = (v: number) => (a === 0 ? 0 : Math.round(v / a));
  const rgb = { r: mean(r), g: mean(g), b: mean(b) };
  const hex = '0x' + [rgb.r, rgb.g, rgb.b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return { ...rgb, hex };
}
