/** What run.ts sends to a child process (bench/child.ts) and what it prints back. */
import type { ThreadMode } from './competitors/types.js';
import type { Workload } from './workloads.js';

export interface ChildArgs {
  readonly competitor: string;
  readonly workload: Workload;
  readonly inputPath: string;
  readonly threads: ThreadMode;
  readonly runs: number;
  readonly warmup: number;
  /** Where the outputs of the last run are written (for SSIM and bytes); undefined = not kept. */
  readonly outDir?: string;
}

export interface ChildOutput {
  readonly name: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  readonly file?: string;
}

/** A timed run's figures besides its wall time (bench/child.ts). */
export interface RunProbe {
  /** CPU time of the whole process (user + system, every thread). */
  readonly cpuMs: number;
  /** CPU time of the main thread alone (Linux); undefined where /proc has no schedstat. */
  readonly mainThreadCpuMs?: number;
  /** CPU time of the other threads that ran, by thread name (V8's background compiles and GC, libuv's pool). */
  readonly otherThreadsCpuMs: Readonly<Record<string, number>>;
  /** Minor page faults (fresh pages the kernel had to map: memory first touched during the run). */
  readonly minorFaults: number;
  readonly majorFaults: number;
}

export type ChildResult =
  | {
      readonly ok: true;
      readonly settings: string;
      /** Process start to the end of the first run (what a cold FC invocation waits for, minus the runtime). */
      readonly firstDoneMs: number;
      readonly firstRunMs: number;
      readonly samplesMs: readonly number[];
      /** One per sample, same order. */
      readonly probes: readonly RunProbe[];
      readonly maxRssBytes: number;
      readonly outputs: readonly ChildOutput[];
    }
  | { readonly ok: false; readonly error: string };

export const RESULT_MARKER = 'BENCH_RESULT ';
