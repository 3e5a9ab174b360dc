/**
 * What bench/memory-stages.mjs and bench/cold-pages.mjs share: naming each WebAssembly instance's
 * module, seeing every instance made, and the two recipes they follow stage by stage (imgpipe's
 * processUpload from a built package, sharp's cascade as bench/competitors/sharp.ts runs it with
 * one thread), each calling `sample(stage)` between stages.
 */

import { resolve } from 'node:path';

export const SIZES = [1200, 600, 150];

/** A module's name from its exports. */
export function moduleName(module) {
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  const has = (s) => names.some((n) => n.includes(s));
  if (has('imgpipe_png_begin')) return 'png';
  if (has('webp')) return 'webp';
  if (has('scanSs')) return 'jpegdec';
  if (has('encodedBytes')) return 'jpegenc';
  if (has('BAND_ROWS')) return 'kernels';
  return names.slice(0, 3).join(',');
}

/**
 * Call `hook(module, exports)` for every WebAssembly instance made from now on; what it returns is
 * the instance's exports as the library sees them (the same object, or a wrapper).
 */
export function onInstances(hook) {
  const RealInstance = WebAssembly.Instance;
  WebAssembly.Instance = function PatchedInstance(module, imports) {
    const i = new RealInstance(module, imports);
    return { exports: hook(module, i.exports) };
  };
  const realInstantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = async (source, imports) => {
    const r = await realInstantiate(source, imports);
    if (r instanceof RealInstance) return { exports: hook(source, r.exports) };
    return { module: r.module, instance: { exports: hook(r.module, r.instance.exports) } };
  };
}

/** imgpipe's recipe without its watermark, sampled before the first encode and around each one. */
function imgpipeRecipe(api, input, sample) {
  const recipe = { ...api.DEFAULT_RECIPE };
  delete recipe.watermark;
  let first = true;
  const encoder = async (image, format, options) => {
    if (first) sample('decoded, 1200 resized');
    first = false;
    sample(`encode ${format} ${image.width} begin`);
    const out = await api.encode(image, format, options);
    sample(`encode ${format} ${image.width} end`);
    return out;
  };
  return api.processUpload(input, { key: 'uploads/bench.jpg', recipe, encoder });
}

/** sharp's cascade, one thread (call sharp.concurrency(1) first): each size from the raw pixels of the one above. */
async function sharpCascade(sharp, input, sample) {
  let raw = await sharp(input).resize({ width: SIZES[0] }).raw().toBuffer({ resolveWithObject: true });
  for (const [i, w] of SIZES.entries()) {
    if (i > 0) raw = await sharp(raw.data, { raw: raw.info }).resize({ width: w }).raw().toBuffer({ resolveWithObject: true });
    sample(`resized ${w}`);
    await sharp(raw.data, { raw: raw.info }).jpeg({ quality: 85 }).toBuffer();
    sample(`jpeg ${w}`);
    await sharp(raw.data, { raw: raw.info }).webp({ quality: 80 }).toBuffer();
    sample(`webp ${w}`);
  }
}

/** Load `who` ('sharp', or imgpipe from the built package at `entry`): a function running its recipe once on `input`. */
export async function recipeRun(who, entry, input, sample) {
  if (who === 'sharp') {
    const sharp = (await import('sharp')).default;
    sharp.concurrency(1);
    return () => sharpCascade(sharp, input, sample);
  }
  const api = await import(resolve(entry));
  return () => imgpipeRecipe(api, input, sample);
}
