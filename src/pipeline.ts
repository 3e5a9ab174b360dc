/** Sequencing helpers shared by the recipe and the x-oss-process engine. */
import { ImgpipeError } from './errors.js';

/** Checked between steps: a cancelled request stops at the next step boundary, not mid-codec. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ImgpipeError('ABORTED', `Expected to keep processing but the operation was aborted${signal.reason ? `: ${String(signal.reason)}` : ''}`);
  }
}
