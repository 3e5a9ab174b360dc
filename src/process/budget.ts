/**
 * The per-request cost budget. Every output limit bounds one image; a chain of legal steps can still
 * cost minutes (`resize,w_4096,h_4096,m_fixed,limit_0/blur,r_50,s_50` was 22 s, nineteen
 * `sharpen,399` about a minute). So each step is priced in "pixel passes" (pixels touched times the
 * kernel work per pixel), the whole chain is priced from the header before anything is decoded, and
 * the actual sizes are charged again before each step runs; a chain over `outputLimits.maxCost` is
 * refused (IMAGE_TOO_LARGE, naming the budget) without running the step that would exceed it.
 */
import { blurKernel } from '../ops/blur.js';
import { anchoredRect } from '../ops/crop.js';
import { rotatedSize } from '../ops/rotate.js';
import type { Operation } from './actions.js';
import { processError } from './oss-error.js';
import { planResize } from './resize-plan.js';


/** Sharpen is an unsharp mask over a radius-2 Gaussian: two 5-tap passes plus the mask. */
const SHARPEN_PASSES = 2 * 5 + 6;
/** Lanczos3 resize, per output pixel (two 6-tap passes, rounded up for the sampling overhead). */
const RESIZE_PASSES = 12;
/** Encoding (JPEG's DCT, WebP's search, PNG's filters and deflate), per output pixel. */
const ENCODE_PASSES = 8;

interface Size { width: number; height: number }

/** Work of one step on an image of `size`, and the size it leaves. */
export function stepCost(op: Operation, size: Size): { cost: number; size: Size } {
  const px = size.width * size.height;
  switch (op.action) {
    case 'resize': {
      const plan = planResize(size.width, size.height, op.params);
      const out = plan.canvas ?? plan.scale ?? size;
      const scaled = plan.scale ? plan.scale.width * plan.scale.height : 0;
      return { cost: px + RESIZE_PASSES * scaled + out.width * out.height, size: { width: out.width, height: out.height } };
    }
    case 'crop': {
      const rect = anchoredRect(size.width, size.height, op.params);
      const out = rect ? { width: rect.width, height: rect.height } : size;
      return { cost: out.width * out.height, size: out };
    }
    case 'rotate': {
      const out = rotatedSize(size.width, size.height, op.params.value);
      // Arbitrary angles sample four neighbours per output pixel.
      return { cost: 4 * out.width * out.height, size: out };
    }
    case 'circle': {
      const side = Math.min(2 * op.params.r!, size.width, size.height);
      return { cost: 2 * side * side, size: { width: side, height: side } };
    }
    case 'blur': {
      const { radius } = blurKernel(op.params.r, op.params.s);
      // Premultiply, a horizontal and a vertical pass of 2r+1 taps, unpremultiply.
      return { cost: (2 * (2 * radius + 1) + 4) * px, size };
    }
    case 'sharpen': return { cost: SHARPEN_PASSES * px, size };
    case 'watermark': return { cost: 3 * px, size };
    // luma, texture mask (four box passes) and the tile: about 20 passes
    case 'blindwatermark': return { cost: 20 * px, size };
    // whitening (three box passes) and folds over the whole image, plus the geometric search: a
    // 1024x1024 autocorrelation and up to ~150 folds of the 512x512 centre
    case 'deblindwatermark': return { cost: 24 * px + 150 * 512 * 512, size };
    case 'format': case 'quality': case 'interlace': return { cost: 0, size };
    default: return { cost: px, size };
  }
}

/** A running total against `max`; `charge` refuses the step that would pass it. */
export class CostBudget {
  private spent = 0;
  constructor(readonly max: number) {}

  charge(action: string, cost: number, size: Size): void {
    this.spent += cost;
    if (this.spent > this.max) {
      throw processError(
        'IMAGE_TOO_LARGE', 'ImageTooLarge',
        `Expected the process to cost at most ${this.max} pixel passes (outputLimits.maxCost) but ${action} on ${size.width}x${size.height} brings it to ${this.spent}`,
        { action },
      );
    }
  }
}

/**
 * Price the whole chain from the source's size (known from its header) before anything is decoded:
 * decoding, every step at the size the steps before it leave, and the encode. Throws as `charge` does.
 */
export function checkChainCost(ops: readonly Operation[], source: Size, decodedPixels: number, max: number): void {
  const budget = new CostBudget(max);
  budget.charge('decode', decodedPixels, source);
  let size = source;
  for (const op of ops) {
    if (op.action === 'info' || op.action === 'average-hue') break;
    const step = stepCost(op, size);
    budget.charge(op.action, step.cost, size);
    size = step.size;
  }
  budget.charge('encode', ENCODE_PASSES * size.width * size.height, size);
}
