/*
 * <cpuid.h> for WebAssembly (used by scripts/build-libheif.mjs). libde265 asks the x86 CPUID
 * instruction whether SSE4.1 is there before it installs its SSE motion-compensation and transform
 * code; on WebAssembly those paths run on WASM SIMD through Emscripten's SSE headers, which every
 * runtime imgpipe targets has, so the answer is always yes (ECX bit 19 = SSE4.1, EDX bit 25 = SSE).
 */
#ifndef IMGPIPE_CPUID_H
#define IMGPIPE_CPUID_H
static inline int __get_cpuid(unsigned int leaf, unsigned int* eax, unsigned int* ebx, unsigned int* ecx, unsigned int* edx) {
  *eax = *ebx = 0;
  *ecx = leaf == 1 ? (1u << 19) : 0;
  *edx = leaf == 1 ? (1u << 25) : 0;
  return 1;
}
#endif
