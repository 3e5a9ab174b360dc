/**
 * A trap in an imgpipe-owned module whose arguments were checked is its memory failing to grow:
 * the resize kernel and the JPEG encoder report it as IMAGE_TOO_LARGE naming the job.
 */
import { describe, expect, it } from 'vitest';
import { outOfMemory } from '../../src/wasm/instance.js';
import { isImgpipeError } from '../../src/errors.js';

describe('outOfMemory', () => {
  it('turns a WebAssembly trap or a failed memory growth into IMAGE_TOO_LARGE naming the job', () => {
    for (const trap of [new WebAssembly.RuntimeError('unreachable'), new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded')]) {
      const e = outOfMemory(trap, 'the resize of 40000x40000 to 10x10');
      expect(isImgpipeError(e, 'IMAGE_TOO_LARGE')).toBe(true);
      expect((e as Error).message).toBe('Expected the resize of 40000x40000 to 10x10 to fit in WebAssembly memory but it ran out');
      expect((e as Error).cause).toBe(trap);
    }
  });

  it('passes anything else through unchanged', () => {
    const other = new TypeError('not a trap');
    expect(outOfMemory(other, 'the JPEG encode of 1x1')).toBe(other);
  });
});
