/**
 * The per-request cost budget. Every output limit bounds one image; a chain of legal steps can still
 * cost minutes (`resize,w_4096,h_4096,m_fixed,limit_0/blur,r_50,s_50` was 22 s, nineteen
 * `sharpen,399` about a minute). So each step is priced in "pixel passes" (pixels touched times the
 * kernel work per pixel), the whole chain is priced from the header before anything is decoded, and
 * the actual sizes are charged again before each step runs; a chain over `outputLimits.maxCost` is
 * refused (IMAGE_TOO_LARGE, naming the budget) without running the step that would exceed it. Each
 * action's price is on its row of the action table (actions.ts `cost`), beside its parameters.
 */
import { ACTIONS, type ActionDef, type Operation, type Size, type StepCost } from './actions.js';
import { processError } from './oss-error.js';

/** Encoding (JPEG's DCT, WebP's search, PNG's filters and deflate), per output pixel. */
const ENCODE_PASSES = 8;

/** Work of one step on an image of `size`, and the size it leaves: the price on the action's row. */
export function stepCost(op: Operation, size: Size): StepCost {
  const price = (ACTIONS[op.action] as ActionDef).cost;
  return price ? price(op.params as never, size) : { cost: size.width * size.height, size };
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
