/**
 * The Function Compute bill an upload pipeline implies, from what the benchmark measured: warm
 * duration and peak memory. Only the two items that scale with the pipeline are counted (memory
 * GiB-seconds and invocations); vCPU, egress and OSS requests are the same whichever library runs.
 */

export const FC_PRICING = Object.freeze({
  /** CNY per GiB-second of configured memory. */
  cnyPerGiBSecond: 0.000110592,
  /** CNY per 10,000 invocations. */
  cnyPer10kInvocations: 0.0133,
  /**
   * FC memory is configured in 64 MiB steps from 128 MiB, so a function whose peak RSS is 300 MiB is
   * deployed (and billed) at 320 MiB. Nobody deploys at exactly the peak, but a fixed headroom would
   * favour whichever side is smaller, so none is added: both sides are rounded by the same rule.
   */
  memoryStepMiB: 64,
  minMemoryMiB: 128,
  maxMemoryMiB: 32 * 1024,
  /** FC 3.0 bills duration per millisecond. */
  durationGranularityMs: 1,
});

/** The memory size FC would be configured with for a function peaking at `peakRssBytes`. */
export function fcMemoryMiB(peakRssBytes: number): number {
  if (!Number.isFinite(peakRssBytes) || peakRssBytes < 0) {
    throw new RangeError(`Expected a peak RSS in bytes >= 0 but received ${peakRssBytes}`);
  }
  const mib = peakRssBytes / (1024 * 1024);
  const stepped = Math.ceil(mib / FC_PRICING.memoryStepMiB) * FC_PRICING.memoryStepMiB;
  const size = Math.max(FC_PRICING.minMemoryMiB, stepped);
  if (size > FC_PRICING.maxMemoryMiB) {
    throw new RangeError(`Expected a peak RSS of at most ${FC_PRICING.maxMemoryMiB} MiB but received ${mib.toFixed(0)} MiB`);
  }
  return size;
}

export interface FcCost {
  readonly memoryMiB: number;
  /** Billed duration of one invocation. */
  readonly billedMs: number;
  readonly gibSecondsPer10k: number;
  readonly computeCnyPer10k: number;
  readonly invocationCnyPer10k: number;
  readonly totalCnyPer10k: number;
}

/** Estimated bill for 10,000 uploads, each taking `durationMs` at a peak of `peakRssBytes`. */
export function fcCostPer10k(durationMs: number, peakRssBytes: number): FcCost {
  if (!Number.isFinite(durationMs) || durationMs < 0) {
    throw new RangeError(`Expected a duration in ms >= 0 but received ${durationMs}`);
  }
  const memoryMiB = fcMemoryMiB(peakRssBytes);
  const g = FC_PRICING.durationGranularityMs;
  const billedMs = Math.ceil(durationMs / g) * g;
  const gibSecondsPer10k = (memoryMiB / 1024) * (billedMs / 1000) * 10_000;
  const computeCnyPer10k = gibSecondsPer10k * FC_PRICING.cnyPerGiBSecond;
  const invocationCnyPer10k = FC_PRICING.cnyPer10kInvocations;
  return Object.freeze({
    memoryMiB,
    billedMs,
    gibSecondsPer10k,
    computeCnyPer10k,
    invocationCnyPer10k,
    totalCnyPer10k: computeCnyPer10k + invocationCnyPer10k,
  });
}
