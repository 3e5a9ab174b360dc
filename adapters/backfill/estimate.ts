/**
 * What a backfill will cost, before it runs. Function Compute's time and cost come from a
 * per-object time model (the default recipe, watermark included, one thread, this repository's
 * 2-core reference machine) and FC's published unit prices; `run --local`'s time comes from a
 * calibration on this machine when `plan` made one (`calibrate.ts`), else from the same model.
 * Every input is printed with the estimate, so a reader can redo the sum with their own numbers.
 */
import { extrapolate, type Calibration } from './calibrate.js';

/**
 * One recipe run on one thread: `fixedMs + msPerMegapixel x source megapixels`. The slope is the
 * full benchmark's one-thread recipe times (README "Benchmark": 260 ms for the 6.1 MP photo, 750 ms
 * for the 17.9 MP Elephants, so 41 ms/MP and 9 ms); `fixedMs` adds the watermark and the storage
 * round trips (a GET, six PUTs, a few HEADs). `bench/backfill.ts` fits the same model on its own
 * objects and reports both estimates against the measured run.
 */
export const TIME_MODEL = Object.freeze({
  fixedMs: 30,
  msPerMegapixel: 42,
  /** Used only when no header was sampled: what a JPEG photo typically weighs per megapixel. */
  bytesPerMegapixel: 350_000,
  measured: 'npm run bench one-thread recipe times, 2 cores AMD EPYC, Node 20',
});

/**
 * Function Compute 3.0 pay-as-you-go, as published on alibabacloud.com ("Pay-as-you-go", Function
 * Compute 3.0, page last updated 2024-11-19): usage is converted to compute units (CU) and a CU costs
 * USD 0.000020 in the first tier (up to 100 million CU a month; the 20% discount that ran until
 * 2025-08-27 is not applied).
 */
export const FC_PRICES = Object.freeze({
  usdPerCu: 0.00002,
  cuPer10kInvocations: 75,
  cuPerActiveVcpuSecond: 1,
  cuPerGbSecond: 0.15,
  source: 'alibabacloud.com/help/en/functioncompute/fc-3-0/product-overview/pay-as-you-go-billing-method-1 (page of 2024-11-19, read 2026-12-05)',
});

/**
 * AWS for the same job (us-east-1, read 2026-12-05): S3 Batch Operations USD 0.25 per job plus
 * USD 1.00 per million objects; Lambda USD 0.20 per million requests and USD 0.0000166667 per
 * GB-second (x86). S3 Batch invokes Lambda once per object.
 */
export const AWS_PRICES = Object.freeze({
  batchUsdPerJob: 0.25,
  batchUsdPerMillionObjects: 1.0,
  lambdaUsdPerMillionRequests: 0.2,
  lambdaUsdPerGbSecond: 0.0000166667,
  source: 'aws.amazon.com/s3/pricing (Batch Operations) and aws.amazon.com/lambda/pricing, us-east-1, read 2026-12-05',
});

export interface EstimateInputs {
  /** Objects to process (missing + stale). */
  readonly objects: number;
  /** Their total source megapixels (measured from sampled headers, or from bytes). */
  readonly megapixels: number;
  /** How the megapixels were obtained. */
  readonly megapixelsFrom: 'headers' | 'bytes';
  /** Cores the local run uses. */
  readonly localThreads: number;
  /** FC function configuration the cost assumes (default 1 vCPU, 1 GB: FC's smallest memory for one vCPU). */
  readonly fcVcpu?: number;
  readonly fcMemoryGb?: number;
  /** Lambda memory for the comparison (default 1.769 GB, the size that gets one full vCPU). */
  readonly lambdaMemoryGb?: number;
  /** Objects per async invocation. */
  readonly chunk?: number;
  /** A calibration on this machine and the objects to process by kind: the local time comes from it. */
  readonly calibration?: Calibration;
  readonly objectsByKind?: Readonly<Record<string, number>>;
  readonly bytesByKind?: Readonly<Record<string, number>>;
}

export interface Estimate {
  readonly inputs: Omit<Required<EstimateInputs>, 'calibration' | 'objectsByKind' | 'bytesByKind'> & { readonly fixedMs: number; readonly msPerMegapixel: number };
  /** Single-thread CPU time of every recipe run, seconds. */
  readonly cpuSeconds: number;
  /** Wall time of `run --local` on `localThreads` cores, seconds. */
  readonly localSeconds: number;
  /** Where it comes from: a calibration on this machine, or the one-thread model divided by the threads. */
  readonly localFrom: 'calibration' | 'model';
  /** With a calibration: what it measured, and the seconds it extrapolates for each kind's bytes. */
  readonly calibration?: Calibration & { readonly secondsByKind: Record<string, number> };
  readonly fc: { readonly invocations: number; readonly vcpuSeconds: number; readonly gbSeconds: number; readonly cu: number; readonly usd: number };
  /** The same job as S3 Batch Operations + Lambda (one invocation per object, same duration per object). */
  readonly aws: { readonly usd: number; readonly batchUsd: number; readonly lambdaUsd: number };
}

/**
 * The estimate. The local run uses every core for one object's encodes and runs two objects at a
 * time, so its wall time is the CPU time divided by the threads. On FC an object's run takes its
 * one-thread time on one vCPU; memory and vCPU are billed for that duration.
 */
export function estimate(i: EstimateInputs): Estimate {
  const { calibration, objectsByKind, bytesByKind, ...rest } = i;
  const inputs = { fcVcpu: 1, fcMemoryGb: 1, lambdaMemoryGb: 1.769, chunk: 10, ...rest, fixedMs: TIME_MODEL.fixedMs, msPerMegapixel: TIME_MODEL.msPerMegapixel };
  const cpuSeconds = (inputs.objects * TIME_MODEL.fixedMs + inputs.megapixels * TIME_MODEL.msPerMegapixel) / 1000;
  const local = calibration && objectsByKind && bytesByKind && calibration.objects > 0 && inputs.objects > 0 ? extrapolate(calibration, objectsByKind, bytesByKind) : undefined;
  const localSeconds = local ? local.seconds : cpuSeconds / Math.max(1, inputs.localThreads);
  const invocations = Math.ceil(inputs.objects / inputs.chunk);
  const vcpuSeconds = cpuSeconds * inputs.fcVcpu;
  const gbSeconds = cpuSeconds * inputs.fcMemoryGb;
  const cu = (invocations / 10_000) * FC_PRICES.cuPer10kInvocations + vcpuSeconds * FC_PRICES.cuPerActiveVcpuSecond + gbSeconds * FC_PRICES.cuPerGbSecond;
  const batchUsd = inputs.objects === 0 ? 0 : AWS_PRICES.batchUsdPerJob + (inputs.objects / 1e6) * AWS_PRICES.batchUsdPerMillionObjects;
  const lambdaUsd = (inputs.objects / 1e6) * AWS_PRICES.lambdaUsdPerMillionRequests + cpuSeconds * inputs.lambdaMemoryGb * AWS_PRICES.lambdaUsdPerGbSecond;
  return {
    inputs,
    cpuSeconds,
    localSeconds,
    localFrom: local ? 'calibration' : 'model',
    calibration: local && calibration ? { ...calibration, secondsByKind: local.byKind } : undefined,
    fc: { invocations, vcpuSeconds, gbSeconds, cu, usd: cu * FC_PRICES.usdPerCu },
    aws: { usd: batchUsd + lambdaUsd, batchUsd, lambdaUsd },
  };
}

/** Megapixels from bytes when no header was read. */
export function megapixelsFromBytes(bytes: number): number {
  return bytes / TIME_MODEL.bytesPerMegapixel;
}
