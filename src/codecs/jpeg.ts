/**
 * JPEG decoding with imgpipe's own decoder (`wasm/jpegdec/`), for sequential and progressive Huffman
 * files: it can decode straight to 1/2, 1/4 or 1/8 of the size in the DCT domain (libjpeg's
 * scale_denom, what sharp calls shrink-on-load) with the same pixels libjpeg-turbo produces, hand its
 * rows to the resize kernel as they come out, read only a region, or lend its output (`jpeg-lend.ts`).
 * What it doesn't handle goes to the fallback decoders (`jpeg-fallback.ts`: libjpeg-turbo, scaled
 * the same way, or jpeg-js for CMYK); lossless (SOF3) files to `jpeg-lossless.ts`, whole; what a
 * frame allows is in `jpeg-frame.ts`.
 */
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import type { Rect } from '../ops/crop.js';
import { OwnedInstance } from '../wasm/instance.js';
import { loadKernel, resizeRows, streamsRows, type RowRange, type RowSource } from '../kernels/lanczos.js';
import { inputProfile, type SrgbConversion } from '../color/icc.js';
import { DEFAULT_FAIL_ON, refuses, type FailOn } from '../fail-on.js';
import { LOSSLESS_SOF, scaledSize, unsupportedProcess, type JpegShrink } from './jpeg-frame.js';
import { isLent, leaseEnd, noRelease, takeLease } from './jpeg-lend.js';
import { decodeJpeg, decodeWithLibjpeg, resetFallbackDecoder } from './jpeg-fallback.js';

export interface DecodedJpeg {
  readonly image: RGBAImage;
  /** The factor the pixels were reduced by: `shrink`, or 1 for a CMYK/YCCK or lossless file (decoded at full size). */
  readonly shrink: JpegShrink;
  /** Ends the lease on lent pixels (a no-op when they are the caller's own). */
  readonly release: () => void;
}

/** What the decoder module exports (wasm/jpegdec/assembly/index.ts). */
interface JpegDecExports {
  readonly memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  reset(): void;
  readonly IN_PROGRESS: WebAssembly.Global;
  begin(src: number, length: number, denom: number, ringMcuRows: number): number;
  step(rows: number): number;
  imageWidth(): number;
  imageHeight(): number;
  outWidth(): number;
  outHeight(): number;
  outPtr(): number;
  outRows(): number;
  rowsOut(): number;
  skipFrom(row: number): void;
  scanSs(): number;
  scanSe(): number;
  scanAh(): number;
  scanAl(): number;
  progressionComponent(): number;
  progressionCoefficient(): number;
  progressionExpectedAh(): number;
}

type StatusName =
  | 'OK' | 'NOT_HANDLED' | 'OUT_OF_MEMORY' | 'BAD_HUFFMAN_CODE' | 'PREMATURE_END' | 'BAD_RESTART'
  | 'EXTRANEOUS_DATA' | 'BAD_SEGMENT' | 'BAD_HUFFMAN_TABLE' | 'BAD_STRUCTURE' | 'MISSING_EOI'
  | 'BAD_SCAN_PARAMETERS' | 'BAD_PROGRESSION' | 'INCOMPLETE_PROGRESSION';

type DamageStatus = Exclude<StatusName, 'OK' | 'NOT_HANDLED' | 'OUT_OF_MEMORY'>;

/**
 * What each damage status means, worded like libjpeg's own warnings so a file is refused with the
 * same words whichever decoder saw it (the module exports each status's number under this name).
 * The progressive statuses add the offending scan's values, read from the module after the call.
 */
const DAMAGE_MESSAGES: Readonly<Record<DamageStatus, (k: JpegDecExports) => string>> = Object.freeze({
  BAD_HUFFMAN_CODE: () => 'Corrupt JPEG data: bad Huffman code',
  PREMATURE_END: () => 'Corrupt JPEG data: premature end of data segment',
  BAD_RESTART: () => 'Corrupt JPEG data: restart marker missing or out of sequence',
  EXTRANEOUS_DATA: () => 'Corrupt JPEG data: extraneous bytes where a marker belongs',
  BAD_SEGMENT: () => 'Bogus marker segment (length or fields out of range)',
  BAD_HUFFMAN_TABLE: () => 'Bogus Huffman table definition',
  BAD_STRUCTURE: () => 'Invalid JPEG file structure (markers missing or out of order)',
  MISSING_EOI: () => 'Premature end of JPEG file (no EOI marker after the image data)',
  BAD_SCAN_PARAMETERS: (k) =>
    `Invalid progressive parameters Ss=${k.scanSs()} Se=${k.scanSe()} Ah=${k.scanAh()} Al=${k.scanAl()}` +
    ' (allowed: Ss = Se = 0 for a DC scan, 1 <= Ss <= Se <= 63 for an AC scan of one component, Ah = 0 or Al + 1, Al <= 13)',
  BAD_PROGRESSION: (k) => k.progressionExpectedAh() < 0
    ? `Inconsistent progression sequence: an AC scan (Ss=${k.scanSs()}) of component ${k.progressionComponent()} before its DC scan`
    : `Inconsistent progression sequence for component ${k.progressionComponent()} coefficient ${k.progressionCoefficient()}: expected Ah=${k.progressionExpectedAh()} after the earlier scans but received Ah=${k.scanAh()}`,
  INCOMPLETE_PROGRESSION: () => 'Incomplete progressive JPEG: the image ends before every coefficient of every component is fully coded',
});

const STATUS_NAMES: readonly StatusName[] = ['OK', 'NOT_HANDLED', 'OUT_OF_MEMORY', ...(Object.keys(DAMAGE_MESSAGES) as DamageStatus[])];

/**
 * MCU rows per decoder call. A decode runs as many short calls rather than one long one, like the
 * resize kernel and the encoder: V8 can't switch a running call from its baseline tier to optimised
 * code, so no call should run for a whole image. Four rows (64 pixel rows of a 4:2:0 photo) keep the
 * calls' overhead far below a percent. (Inside a call the per-MCU-row functions are called often
 * enough to be optimised early too, so even a cold process's first decode runs mostly on optimised code.)
 */
const ROWS_PER_STEP = 4;

let own = new OwnedInstance<JpegDecExports>('jpegdec');
/** Status number → name, read once from the module's exported constants. */
let statusNames: ReadonlyMap<number, StatusName> | undefined;

function statusOf(k: JpegDecExports, code: number): StatusName | undefined {
  statusNames ??= new Map(STATUS_NAMES.map((n) => [((k as unknown as Record<string, WebAssembly.Global>)[n]).value as number, n]));
  return statusNames.get(code);
}

/** Forget the decoder instances (tests and memory-pressure hooks). */
export function resetJpegDecoder(): void {
  own = new OwnedInstance<JpegDecExports>('jpegdec');
  resetFallbackDecoder();
}

/** Diagnostics: the own decoder's warm memory and how many instances it has created. */
export function jpegDecoderStats(): Readonly<{ memoryBytes: number; instancesCreated: number }> {
  return own.stats();
}

/**
 * Run imgpipe's own decoder (sequential or progressive). Returns undefined when the file is outside
 * what it handles (the caller falls back); throws CORRUPT_IMAGE for damage and IMAGE_TOO_LARGE when
 * its memory can't grow.
 */
export async function decodeBaselineJpeg(bytes: Uint8Array, header: ImageHeader, shrink: JpegShrink, failOn: FailOn = DEFAULT_FAIL_ON): Promise<RGBAImage | undefined> {
  return (await runOwnDecoder(bytes, header, shrink, 'copy', failOn))?.image;
}

/**
 * Decode with the own decoder, reduced by `shrink`, straight into a resize to `width` x `height`:
 * the decoder's output is a ring of a few MCU rows that the resize kernel takes as they come out, so
 * neither the decoded image nor a copy of it is ever held whole (24 MB for a 2725x2225 photo).
 * With `range`, only those output rows (an image `to - from` rows high): rows above the ones they
 * need are only entropy-decoded, and the decode stops at the last one needed, so two threads can
 * share one image. `width` x `height` is upright: a file stored sideways (EXIF orientation 5-8)
 * is oriented by the kernel as it resizes (whole, no `range`). Undefined when this path can't take
 * the file (a file the own decoder leaves to the fallback, a reduction or orientation the kernel
 * can't stream): the caller decodes and resizes in two steps.
 */
export async function decodeJpegResized(
  bytes: Uint8Array,
  header: ImageHeader,
  shrink: JpegShrink,
  width: number,
  height: number,
  range: RowRange = { from: 0, to: height },
  failOn: FailOn = DEFAULT_FAIL_ON,
): Promise<RGBAImage | undefined> {
  await loadKernel();
  const source = scaledSize(header, shrink);
  if (header.orientation !== 1 && (range.from !== 0 || range.to !== height)) return undefined;
  if (!streamsRows(source.width, source.height, width, height, header.orientation)) return undefined;
  // A LUT-based profile is applied to the decoded image (decode.ts), never row by row here.
  const { srgb, lcms } = await inputProfile(bytes, header);
  if (lcms) return undefined;
  return (await runOwnDecoder(bytes, header, shrink, { width, height, range, srgb }, failOn))?.image;
}

/**
 * Decode only the stored rectangle `rect` (crop-on-load): rows above it are only entropy-decoded, the
 * decode stops after its last row, and only its columns are kept, so the decoded image is never held
 * (a 1 px crop of a 100 MP photo holds a few rows, not 400 MB). The pixels are those of the full
 * decode's rectangle, before any ICC conversion. A progressive file still reads every scan first.
 * Undefined when the own decoder leaves the file to the fallback (the caller decodes it whole).
 */
export async function decodeJpegRegion(bytes: Uint8Array, header: ImageHeader, rect: Rect, failOn: FailOn = DEFAULT_FAIL_ON): Promise<RGBAImage | undefined> {
  if (header.components === 4) return undefined;
  return (await runOwnDecoder(bytes, header, 1, { region: rect }, failOn))?.image;
}

/** Rows a region read copies out of the decoder at a time. */
const REGION_BAND_ROWS = 16;

/** `rect`'s rows and columns of `source`, read top to bottom; undefined when the source failed. */
function regionRows(source: RowSource, rect: Rect): RGBAImage | undefined {
  const rowBytes = source.width * 4;
  const keep = rect.width * 4;
  const band = new Uint8Array(rowBytes * REGION_BAND_ROWS);
  const out = new Uint8ClampedArray(keep * rect.height);
  source.skipTo(rect.y);
  for (let y = 0; y < rect.height;) {
    const rows = source.read(band, Math.min(REGION_BAND_ROWS, rect.height - y));
    if (rows <= 0) return undefined;
    for (let r = 0; r < rows; r++, y++) out.set(band.subarray(r * rowBytes + rect.x * 4, r * rowBytes + rect.x * 4 + keep), y * keep);
  }
  return asImage(rect.width, rect.height, out);
}

interface OwnResult {
  readonly status: StatusName | undefined;
  readonly image?: RGBAImage;
  readonly detail?: string;
  readonly release?: () => void;
}

/**
 * What the own decoder's pixels become: a copy of their own, a lease on the decoder's memory,
 * (streamed through the resize kernel) an image of this size, its rows brought to sRGB on the way
 * when the file's profile asks for it (the other outputs are converted by their caller), or
 * (streamed) just the stored rectangle `region`.
 */
type OwnOutput = 'copy' | 'lend' | Readonly<{ width: number; height: number; range: RowRange; srgb?: SrgbConversion }> | Readonly<{ region: Rect }>;

/** OwnOutput rows a streamed decode holds: one step's MCU rows, plus the one each step finishes late. */
const RING_MCU_ROWS = ROWS_PER_STEP + 1;

/**
 * The decoder as a RowSource: each read takes the rows it has put out since the last, stepping it
 * when there are none. `state.code` is the decoder's last status.
 */
function decoderRows(k: JpegDecExports, state: { code: number }, width: number, height: number): RowSource {
  const inProgress = k.IN_PROGRESS.value as number;
  let taken = 0;
  return {
    width,
    height,
    skipTo(row) {
      taken = row;
      k.skipFrom(row);
    },
    read(into, max) {
      while (taken >= k.rowsOut()) {
        if (state.code !== inProgress) return -1;
        state.code = k.step(ROWS_PER_STEP);
      }
      // The frame (read by the first step) must be the one the header declared, as rows are taken.
      if (k.outWidth() !== width) return -1;
      const ring = k.outRows();
      const slot = taken % ring;
      const rows = Math.min(max, k.rowsOut() - taken, ring - slot);
      into.set(new Uint8Array(k.memory.buffer, k.outPtr() + slot * width * 4, rows * width * 4));
      taken += rows;
      return rows;
    },
  };
}

/** What a decode that found the decoder's memory lent returns, to wait and try again. */
const BUSY = Symbol('decoder memory lent');

/**
 * Run the own decoder with `output`. Undefined when the file is outside what it handles (the caller
 * falls back); throws CORRUPT_IMAGE for damage and IMAGE_TOO_LARGE when its memory can't grow.
 */
async function runOwnDecoder(bytes: Uint8Array, header: ImageHeader, shrink: JpegShrink, output: OwnOutput, failOn: FailOn): Promise<{ image: RGBAImage; release: () => void } | undefined> {
  const unsupported = unsupportedProcess(header);
  if (unsupported) throw unsupported;
  // Lossless files have no DCT to reduce in, nor rows to stream: decoded whole (decodeJpegScaled).
  if (header.sof === LOSSLESS_SOF) return undefined;
  const scaled = scaledSize(header, shrink);
  let result: OwnResult | typeof BUSY;
  try {
    do {
      await leaseEnd();
      result = await own.use((k): OwnResult | typeof BUSY => {
        // Checked where nothing can interleave: another call may have taken a lease while this one awaited.
        if (isLent()) return BUSY;
        k.reset();
        const src = k.alloc(bytes.byteLength);
        new Uint8Array(k.memory.buffer, src, bytes.byteLength).set(bytes);
        const inProgress = k.IN_PROGRESS.value as number;
        const streamed = typeof output === 'object';
        const state = { code: k.begin(src, bytes.byteLength, shrink, streamed ? RING_MCU_ROWS : 0) };
        const rows = streamed ? decoderRows(k, state, scaled.width, scaled.height) : undefined;
        const resized = !streamed ? undefined
          : 'region' in output ? regionRows(rows!, output.region)
            : resizeRows({ ...rows!, orientation: header.orientation }, output.width, output.height, output.range, output.srgb);
        // Whatever the resize left: everything, or the end of the file after the last row. Not for the
        // top part of a shared image (the thread with the bottom reads the file to its end), nor for a
        // region above the last row: the rest of the file is never read.
        const top = streamed && ('region' in output ? output.region.y + output.region.height < scaled.height : output.range.to < output.height);
        if (!top) while (state.code === inProgress) state.code = k.step(ROWS_PER_STEP);
        let status = top && state.code === inProgress ? 'OK' : statusOf(k, state.code);
        // Damage after the last row of image data (bytes before EOI, or no EOI when the header let
        // that through) changes no pixel: libjpeg only sees it after the last row, and sharp decodes it.
        const rowsDone = k.outHeight() === scaled.height && k.rowsOut() >= scaled.height && (!streamed || resized !== undefined);
        if (rowsDone && (status === 'EXTRANEOUS_DATA' || (status === 'MISSING_EOI' && !refuses(failOn, 'truncated')))) status = 'OK';
        if (status !== 'OK') {
          const describe = status && status in DAMAGE_MESSAGES ? DAMAGE_MESSAGES[status as DamageStatus] : undefined;
          const detail = describe?.(k);
          k.reset();
          return { status, detail };
        }
        if (k.imageWidth() !== header.width || k.imageHeight() !== header.height) {
          throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${header.width}x${header.height} pixels as the JPEG header declares but the frame declares ${k.imageWidth()}x${k.imageHeight()}`);
        }
        if (streamed) {
          k.reset();
          // A decode that ended well feeds every row: undefined here would be a bug.
          if (!resized) throw new ImgpipeError('INTERNAL', `The ${header.width}x${header.height} JPEG decoded but its rows did not all arrive`);
          return { status, image: resized };
        }
        const w = k.outWidth();
        const h = k.outHeight();
        const at = k.outPtr();
        if (output === 'copy') {
          const image = asImage(w, h, new Uint8ClampedArray(k.memory.buffer.slice(at, at + w * h * 4)));
          k.reset();
          return { status, image };
        }
        // Lent: a view of the decoder's memory, valid until release() (the next decode resets it).
        return { status, image: asImage(w, h, new Uint8ClampedArray(k.memory.buffer, at, w * h * 4)), release: takeLease() };
      }, bytes.byteLength + scaled.width * scaled.height * 8);
    } while (result === BUSY);
  } catch (e) {
    // A trap has already cost the instance (OwnedInstance drops it): let the fallback decide.
    if (e instanceof ImgpipeError) throw e;
    return undefined;
  }
  const { status } = result;
  if (status === 'OK') return { image: result.image!, release: result.release ?? noRelease };
  if (status === 'NOT_HANDLED') return undefined;
  // libjpeg shows a progression that stops early (smoothed, with no warning) and decodes through its
  // warnings below failOn 'warning': the libjpeg-turbo fallback does both, as sharp does.
  if (status === 'INCOMPLETE_PROGRESSION' || failOn !== 'warning') return undefined;
  if (status === 'OUT_OF_MEMORY') {
    throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected the ${header.width}x${header.height} JPEG to fit in WebAssembly memory but its decoder ran out`);
  }
  throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable JPEG but the decoder reported: ${result.detail ?? 'an unknown status'}`);
}

/**
 * Decode a JPEG, reduced by `shrink` in the DCT domain (the result then measures
 * ceil(width / shrink) x ceil(height / shrink), as libjpeg's scaled output does; a CMYK/YCCK file is
 * decoded at full size, `shrink` 1).
 * With `lend`, the own decoder's pixels stay in its memory (no 24 MB allocation and copy for a
 * 2725x2225 photo): the caller must copy them out at once and call `release()`, and no other decode
 * runs until then.
 */
export async function decodeJpegScaled(bytes: Uint8Array, header: ImageHeader, shrink: JpegShrink = 1, lend = false, failOn: FailOn = DEFAULT_FAIL_ON): Promise<DecodedJpeg> {
  if (header.sof === LOSSLESS_SOF) {
    const { decodeLosslessJpeg } = await import('./jpeg-lossless.js');
    return { image: await decodeLosslessJpeg(bytes, header, failOn), shrink: 1, release: noRelease };
  }
  if (header.components !== 4) {
    const own = await runOwnDecoder(bytes, header, shrink, lend ? 'lend' : 'copy', failOn);
    if (own) return { image: own.image, shrink, release: own.release };
    return { image: await decodeWithLibjpeg(bytes, header, shrink, failOn), shrink, release: noRelease };
  }
  return { image: await decodeJpeg(bytes, header, failOn), shrink: 1, release: noRelease };
}
