import type { OutputSpec, Workload } from '../workloads.js';

/**
 * `single`: one thread for pixel work (the per-core figure FC's fractional vCPUs see); `all`: every
 * core, as each library is best set up for it (imgpipe: encodes on a worker pool); `default`: the
 * library exactly as imported, nothing configured (what a fresh FC instance runs; the cold start).
 */
export type ThreadMode = 'single' | 'all' | 'default';

export interface BenchOutput {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** A competitor set up for one workload in one child process. */
export interface PreparedRun {
  /** What exactly is being run: library version, strategy, encoder settings, threads. */
  readonly settings: string;
  run(input: Uint8Array, outputs: readonly OutputSpec[]): Promise<BenchOutput[]>;
}

export interface Competitor {
  readonly id: string;
  readonly label: string;
  /** Why this competitor can't do the workload as asked (reported, not faked), or undefined. */
  cannot?(workload: Workload): string | undefined;
  prepare(threads: ThreadMode, workload: Workload): Promise<PreparedRun>;
}

/**
 * The text every watermarking competitor draws: imgpipe's default recipe watermark (bottom-right,
 * white at 60% opacity, 20 px in from the edges, text height width/30 but at least 20 px).
 */
export const WATERMARK = Object.freeze({ text: '© imgpipe', opacity: 0.6, minSize: 20, sizeDivisor: 30, margin: 20 });
