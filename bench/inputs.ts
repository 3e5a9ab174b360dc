/**
 * Benchmark inputs. The standard photo is a fixture (test/fixtures/); the 5640x3172 photo comes from Debian's
 * `mate-backgrounds` package and is fetched with apt into `bench/.cache/` the first time it is needed
 * (46 MB package, never committed). The other source kinds are made from those two with sharp the
 * first time they are needed (`ensureInput`), into `bench/.cache/derived/`: a PNG of the photo, a
 * synthetic RGBA graphic (shapes, gradients, text, transparency) as PNG and as lossless WebP, the
 * 5640 px photo as a 4096 px lossy WebP, and a 12 MP phone-style JPEG (4032x3024 stored, EXIF
 * orientation 6, q92 4:2:0) cut from it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputId } from './workloads.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = resolve(BENCH_DIR, '..');
export const CACHE_DIR = join(BENCH_DIR, '.cache');
export const FIXTURES_DIR = resolve(ROOT_DIR, 'test/fixtures');

const ELEPHANTS_IN_PACKAGE = 'usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg';
const PACKAGE_DIR = join(CACHE_DIR, 'mate-backgrounds');

const DERIVED_DIR = join(CACHE_DIR, 'derived');

export const INPUTS: Readonly<Record<InputId, { readonly label: string; readonly path: string }>> = Object.freeze({
  photo: { label: '2569067123_aca715a2ee_o.jpg (2725x2225)', path: join(FIXTURES_DIR, 'images/2569067123_aca715a2ee_o.jpg') },
  elephants: { label: 'Elephants_5640x3172.jpg (Debian mate-backgrounds)', path: join(PACKAGE_DIR, ELEPHANTS_IN_PACKAGE) },
  phone: { label: 'phone-4032x3024-orientation6.jpg (made from Elephants)', path: join(DERIVED_DIR, 'phone-4032x3024-orientation6.jpg') },
  'png-photo': { label: 'photo-2725x2225.png (the standard photo, sharp PNG defaults)', path: join(DERIVED_DIR, 'photo-2725x2225.png') },
  'png-graphic': { label: 'graphic-3640x2048-rgba.png (synthetic, rendered by sharp)', path: join(DERIVED_DIR, 'graphic-3640x2048-rgba.png') },
  'webp-lossy': { label: 'elephants-4096.webp (lossy q80)', path: join(DERIVED_DIR, 'elephants-4096.webp') },
  'webp-lossless': { label: 'graphic-3640x2048-lossless.webp', path: join(DERIVED_DIR, 'graphic-3640x2048-lossless.webp') },
});

/** An RGBA graphic of the kind sites upload as PNG: flat colours, gradients, text, soft transparency. */
function graphicSvg(width: number, height: number): string {
  const shapes: string[] = [];
  for (let i = 0; i < 40; i++) {
    const x = (i * 397) % width, y = (i * 211) % height, r = 60 + ((i * 53) % 240);
    shapes.push(`<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${(i * 37) % 360},70%,55%)" fill-opacity="${0.35 + (i % 5) * 0.13}"/>`);
    shapes.push(`<rect x="${(i * 613) % width}" y="${(i * 149) % height}" width="${120 + (i % 7) * 40}" height="${80 + (i % 3) * 50}" rx="18" fill="hsl(${(i * 71) % 360},60%,40%)"/>`);
  }
  for (let i = 0; i < 12; i++) {
    shapes.push(`<text x="${80 + (i % 3) * 1200}" y="${200 + i * 150}" font-family="sans-serif" font-size="${64 + (i % 4) * 16}" fill="#1d2733">imgpipe benchmark graphic ${i}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#3a7bd5" stop-opacity="0.9"/><stop offset="1" stop-color="#f4d03f" stop-opacity="0.2"/></linearGradient></defs>
<rect x="40" y="40" width="${width - 80}" height="${height - 80}" rx="64" fill="url(#g)"/>${shapes.join('')}</svg>`;
}

/** The input's path, made (from the fixtures and the 5640 px photo) the first time it is needed. */
export async function ensureInput(id: InputId, log: (line: string) => void = () => {}): Promise<string> {
  if (id === 'elephants') return ensureElephants(log);
  const target = INPUTS[id].path;
  if (id === 'photo' || existsSync(target)) return target;
  const { default: sharp } = await import('sharp');
  mkdirSync(DERIVED_DIR, { recursive: true });
  log(`making ${INPUTS[id].label} in bench/.cache/derived/ (once)`);
  if (id === 'png-photo') await sharp(INPUTS.photo.path).png().toFile(target);
  else if (id === 'png-graphic') await sharp(Buffer.from(graphicSvg(3640, 2048))).png().toFile(target);
  else if (id === 'webp-lossless') await sharp(await ensureInput('png-graphic', log)).webp({ lossless: true }).toFile(target);
  else if (id === 'webp-lossy') await sharp(ensureElephants(log)).resize(4096).webp({ quality: 80 }).toFile(target);
  else {
    // A phone stores the sensor's landscape frame and says "turn 90 degrees clockwise" (EXIF 6).
    await sharp(ensureElephants(log)).resize(4032, 3024, { fit: 'cover' }).withMetadata({ orientation: 6 })
      .jpeg({ quality: 92, chromaSubsampling: '4:2:0' }).toFile(target);
  }
  return target;
}

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Download and unpack mate-backgrounds unless the photo is already cached. Returns its path. */
export function ensureElephants(log: (line: string) => void = () => {}): string {
  const target = INPUTS.elephants.path;
  if (existsSync(target)) return target;
  mkdirSync(CACHE_DIR, { recursive: true });
  log('fetching mate-backgrounds with apt-get download (once; cached in bench/.cache/)');
  try {
    run('apt-get', ['download', 'mate-backgrounds'], CACHE_DIR);
  } catch {
    // A fresh machine has no package lists yet: refresh them once and retry.
    run('apt-get', ['update'], CACHE_DIR);
    run('apt-get', ['download', 'mate-backgrounds'], CACHE_DIR);
  }
  const deb = readdirSync(CACHE_DIR).find((f) => /^mate-backgrounds_.*\.deb$/.test(f));
  if (!deb) throw new Error('apt-get download mate-backgrounds left no .deb in bench/.cache/');
  run('dpkg-deb', ['-x', join(CACHE_DIR, deb), PACKAGE_DIR], CACHE_DIR);
  if (!existsSync(target)) throw new Error(`mate-backgrounds no longer contains ${ELEPHANTS_IN_PACKAGE}`);
  return target;
}
