/**
 * One competitor, one workload, one thread mode, in a process of its own, so that peak RSS, start-up
 * and thread pools belong to that competitor alone. Prints one `BENCH_RESULT {json}` line; the
 * orchestrator (run.ts) ignores everything else a library may print.
 *
 * The first run is timed separately (cold: includes WASM compilation and lazy init), then `warmup`
 * more runs are discarded and `runs` runs are timed.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCompetitor } from './competitors/index.js';
import { RESULT_MARKER, type ChildArgs, type ChildResult, type RunProbe } from './protocol.js';

/**
 * CPU nanoseconds each thread of this process has run, by thread id, with the thread's name, from
 * /proc/self/task/<tid>/schedstat (nanoseconds, where /proc's stat counts 10 ms ticks). Empty off
 * Linux. Shows whether a timed run used other threads than the main one (V8's background compiles
 * and GC, libuv's pool, a library's own threads) and how much.
 */
function threadCpuNs(): Map<number, { name: string; ns: number }> {
  const out = new Map<number, { name: string; ns: number }>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      out.set(Number(tid), { name, ns });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** One timed run's own figures besides its wall time (what the wall time alone can't tell apart). */
async function probed<T>(run: () => Promise<T>): Promise<{ value: T; wallMs: number; probe: RunProbe }> {
  const threadsBefore = threadCpuNs();
  const cpuBefore = process.cpuUsage();
  const faultsBefore = process.resourceUsage();
  const t = performance.now();
  const value = await run();
  const wallMs = performance.now() - t;
  const cpu = process.cpuUsage(cpuBefore);
  const faults = process.resourceUsage();
  const threadsAfter = threadCpuNs();
  const others: Record<string, number> = {};
  let mainNs = 0;
  for (const [tid, { name, ns }] of threadsAfter) {
    const used = ns - (threadsBefore.get(tid)?.ns ?? 0);
    if (tid === process.pid) mainNs = used;
    else if (used > 0) others[name] = (others[name] ?? 0) + used / 1e6;
  }
  return {
    value,
    wallMs,
    probe: {
      cpuMs: (cpu.user + cpu.system) / 1000,
      mainThreadCpuMs: threadsAfter.size ? mainNs / 1e6 : undefined,
      otherThreadsCpuMs: others,
      minorFaults: faults.minorPageFault - faultsBefore.minorPageFault,
      majorFaults: faults.majorPageFault - faultsBefore.majorPageFault,
    },
  };
}

/**
 * Peak resident memory of this process. On Linux this is VmHWM, the high-water mark of this
 * process's own address space. getrusage's maxRSS (process.resourceUsage(), /usr/bin/time) is
 * wrong here: Linux carries it across fork+exec, so every child would report at least the
 * orchestrator's RSS at the moment it was spawned.
 */
function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux: fall back to getrusage, in KiB.
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function main(args: ChildArgs): Promise<ChildResult> {
  const competitor = findCompetitor(args.competitor);
  if (!competitor) throw new Error(`unknown competitor ${args.competitor}`);
  const prepared = await competitor.prepare(args.threads, args.workload);
  const input = new Uint8Array(readFileSync(args.inputPath));
  const t = performance.now();
  let outputs = await prepared.run(input, args.workload.outputs);
  const firstDoneMs = performance.now();
  const firstRunMs = firstDoneMs - t;
  for (let i = 0; i < args.warmup; i++) outputs = await prepared.run(input, args.workload.outputs);
  const samplesMs: number[] = [];
  const probes: RunProbe[] = [];
  for (let i = 0; i < args.runs; i++) {
    const timed = await probed(() => prepared.run(input, args.workload.outputs));
    outputs = timed.value;
    samplesMs.push(timed.wallMs);
    probes.push(timed.probe);
  }
  if (args.outDir) mkdirSync(args.outDir, { recursive: true });
  return {
    ok: true,
    settings: prepared.settings,
    firstDoneMs,
    firstRunMs,
    samplesMs,
    probes,
    maxRssBytes: peakRssBytes(),
    outputs: outputs.map((o) => {
      const file = args.outDir ? join(args.outDir, o.name) : undefined;
      if (file) writeFileSync(file, o.bytes);
      return { name: o.name, bytes: o.bytes.byteLength, width: o.width, height: o.height, file };
    }),
  };
}

const raw = process.argv[2];
if (raw) {
  const result: ChildResult = await main(JSON.parse(raw) as ChildArgs).catch((e: unknown) => ({
    ok: false as const,
    error: e instanceof Error ? `${e.name}: ${e.message}` : `thrown non-Error: ${String(e)}`,
  }));
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(result)}\n`);
  // Emscripten thread pools (wasm-vips, sharp-wasm32) keep the event loop alive: leave explicitly.
  process.exit(result.ok ? 0 : 1);
}
