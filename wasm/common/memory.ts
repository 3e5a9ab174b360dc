// A bump allocator over the module's own linear memory, shared by every AssemblyScript project here
// (kernels, jpegdec, jpegenc: each imports it as `../../common/memory` and gets its own copy compiled
// into its own module, so each module still owns its memory). A resize allocates a handful of large
// buffers (source, intermediates, destination, filter tables) whose lifetimes all end when the
// call returns, so a general-purpose heap would only add bookkeeping: the caller resets the
// pointer before each call and the memory is reused as is.

/** Everything is 16-byte aligned so SIMD loads and stores never straddle an alignment boundary. */
const ALIGN: usize = 16;
const PAGE: usize = 65536;

/** Start of the region that reset() returns to; moves only for allocations that live forever. */
let base: usize = (__heap_base + ALIGN - 1) & ~(ALIGN - 1);
let top: usize = base;

/** Round up to the allocation alignment. */
// @ts-ignore: decorator
@inline export function align16(n: usize): usize {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

/**
 * Reserve `bytes` (plus 32 bytes of slack, because SIMD loops read and write whole vectors past
 * the end of a row). Traps when the memory can't grow: the JS side turns the trap into an
 * IMAGE_TOO_LARGE error and discards this instance.
 */
export function alloc(bytes: usize): usize {
  const ptr = top;
  const end = align16(ptr + bytes + 32);
  const have = <usize>memory.size() * PAGE;
  if (end > have) {
    const pages = <i32>((end - have + PAGE - 1) / PAGE);
    if (memory.grow(pages) < 0) unreachable();
  }
  top = end;
  return ptr;
}

/** Allocate memory that survives reset() (tables built once per instance). Only valid at top == base. */
export function allocPermanent(bytes: usize): usize {
  const ptr = alloc(bytes);
  base = top;
  return ptr;
}

/** Forget every allocation made since the last permanent one. */
export function reset(): void {
  top = base;
}
