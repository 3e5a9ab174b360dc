import { expect } from 'vitest';
import { decode, inspect } from '../../src/decode.js';
import { decodeResized } from '../../src/decode-resized.js';
import { rejection } from './errors.js';

/** How a PNG whose image data libspng can't inflate is refused, by every decode path. */
export const DAMAGED_IDAT = /^Expected a decodable PNG but its image data \(IDAT\) is damaged or ends early: libspng reported "[^"]+"$/;

/**
 * `bytes` (damaged image data) is refused with CORRUPT_IMAGE, streamed
 * into a `target` resize and decoded whole alike: the same code and message.
 */
export async function expectDamagedAlike(bytes: Uint8Array, target: { width: number; height: number }): Promise<void> {
  const streamed = await rejection(decodeResized(bytes, inspect(bytes), target));
  const whole = await rejection(decode(bytes));
  expect(streamed.code).toBe('CORRUPT_IMAGE');
  expect(streamed.message).toMatch(DAMAGED_IDAT);
  expect(streamed).toEqual(whole);
}
