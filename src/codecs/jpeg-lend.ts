/**
 * Pixels lent from the own JPEG decoder's memory (`decodeJpegScaled`'s `lend`), saving the
 * allocation and copy of a full-size buffer: while a lease is out no decode may reuse that memory,
 * so later decodes wait for its `release()`. One lease at a time: there is one decoder instance.
 */
let leased = false;
let leaseEnded: Promise<void> = Promise.resolve();

/** The release of pixels that were never lent (they are the caller's own). */
export const noRelease = (): void => undefined;

/** Resolves once no lease is out (check `isLent()` again where nothing can interleave: another caller may have taken one meanwhile). */
export async function leaseEnd(): Promise<void> {
  while (leased) await leaseEnded;
}

export function isLent(): boolean {
  return leased;
}

/** Take the lease on the decoder's memory; the returned release ends it. */
export function takeLease(): () => void {
  leased = true;
  let end!: () => void;
  leaseEnded = new Promise<void>((r) => (end = r));
  // Idempotent per lease: a second call must never end a later caller's lease.
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    leased = false;
    end();
  };
}
