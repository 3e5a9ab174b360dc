/**
 * Embedded ICC profiles that `icc.ts` can't apply itself (LUT-based RGB profiles, CMYK profiles),
 * applied with Little CMS (`wasm/lcms2/`: lcms 2.14 from Debian's source, behind a small C
 * interface with no Emscripten glue) as sharp does: from the profile to sRGB, perceptual intent, no
 * black point compensation. The module (~250 KB) is compiled only when such a file arrives, in the
 * thread that decodes it: a transform is state in that instance, not data to send elsewhere.
 *
 * Where the module can't be loaded (a Function Compute function deployed without it, see the
 * README), the pixels stay as decoded, as they were before it existed: nothing is refused.
 */
import { OwnedInstance, copyIn, outOfMemory, type OutputBufferExports } from '../wasm/instance.js';

/** What wasm/lcms2/lcms.c exports. */
interface LcmsExports extends OutputBufferExports {
  imgpipe_lcms_prepare(icc: number, size: number, inverted: number): number;
  imgpipe_lcms_apply(pixels: number, count: number): void;
  imgpipe_lcms_message(): number;
}

let lcms = new OwnedInstance<LcmsExports>('lcms2');

/** Forget the lcms instance (tests and memory-pressure hooks). */
export function resetLcms(): void {
  lcms = new OwnedInstance<LcmsExports>('lcms2');
  prepared = undefined;
}

/**
 * The transform the instance holds: for which exports (an instance replaced since holds none),
 * profile bytes and layout. Making one evaluates the profile's tables into lcms's 8-bit grid (~85 ms
 * for a 500 KB LUT profile); a phone's or a scanner's uploads share their profile, so the next image
 * with the same profile reuses it.
 */
let prepared: { exports: LcmsExports; profile: Uint8Array; layout: ProfilePixels; ok: boolean } | undefined;

function samePrepared(k: LcmsExports, profile: Uint8Array, layout: ProfilePixels): boolean {
  if (!prepared || prepared.exports !== k || prepared.layout !== layout || prepared.profile.length !== profile.length) return false;
  const a = prepared.profile;
  for (let i = 0; i < a.length; i++) if (a[i] !== profile[i]) return false;
  return true;
}

/** Pixels per pass through the module's memory: a megabyte, whatever the image. */
const CHUNK_PIXELS = 1 << 18;

/**
 * The pixels' layout: RGBA (an RGB profile; alpha kept), CMYK with 0 = no ink, or CMYK stored
 * inverted (255 = no ink), as Adobe's JPEGs hold it (CMYK profiles).
 */
export type ProfilePixels = 'rgba' | 'cmyk' | 'inverted-cmyk';

/** Whether the module can be loaded here (it is compiled now if it can). */
export async function lcmsAvailable(): Promise<boolean> {
  try {
    await lcms.load();
    return true;
  } catch {
    return false;
  }
}

/**
 * Transform `pixels` (4 bytes each, laid out as `layout` says) to sRGB RGBA in place with `profile`.
 * False, with the pixels untouched, when the module can't be loaded or the profile can't be used
 * for such pixels (unreadable, or of another colour space): the caller keeps what it has.
 */
export async function applyProfile(pixels: Uint8Array | Uint8ClampedArray, profile: Uint8Array, layout: ProfilePixels): Promise<boolean> {
  // The module not deployed here (or not compilable): the pixels stay as before it existed.
  if (!(await lcmsAvailable())) return false;
  const count = Math.floor(pixels.length / 4);
  const chunk = Math.max(1, Math.min(count, CHUNK_PIXELS));
  try {
    return await lcms.use((k) => {
      if (!samePrepared(k, profile, layout)) {
        prepared = undefined;
        const icc = copyIn(k, profile);
        const kind = k.imgpipe_lcms_prepare(icc, profile.byteLength, layout === 'inverted-cmyk' ? 1 : 0);
        k.imgpipe_free(icc);
        prepared = { exports: k, profile: profile.slice(), layout, ok: kind === (layout === 'rgba' ? 1 : 2) };
      }
      if (!prepared!.ok) return false;
      const at = k.imgpipe_alloc(chunk * 4);
      if (at === 0) throw new RangeError('malloc failed');
      for (let i = 0; i < count; i += chunk) {
        const n = Math.min(chunk, count - i);
        new Uint8Array(k.memory.buffer, at, n * 4).set(pixels.subarray(i * 4, (i + n) * 4));
        k.imgpipe_lcms_apply(at, n);
        pixels.set(new Uint8Array(k.memory.buffer, at, n * 4), i * 4);
      }
      k.imgpipe_free(at);
      return true;
    }, profile.byteLength + chunk * 4 + (1 << 20));
  } catch (e) {
    throw outOfMemory(e, `the ICC conversion of ${count} pixels`);
  }
}
