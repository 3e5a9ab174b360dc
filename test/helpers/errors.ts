import { isImgpipeError } from '../../src/errors.js';

/** The code and message `p` is rejected with; throws (failing the test) unless it is an ImgpipeError. */
export async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  if (!isImgpipeError(e)) throw new Error(`expected an ImgpipeError, got ${String(e)}`);
  return { code: e.code, message: e.message };
}
