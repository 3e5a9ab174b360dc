import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Codecs run real WASM on real photos on a shared 2-core machine: give tests room, but never
    // assert wall-clock times (the benchmark measures speed).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
