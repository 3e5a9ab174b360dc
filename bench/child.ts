/**
 * One competitor, one workload, one thread mode, in a process of its own, so that peak RSS, start-up
 * and thread pools belong to that competitor alone. Prints one `BENCH_RESULT {json}` line; the
 * orchestrator (run.ts) ignores everything else a library may print.
 *
 * The first run is timed separately (cold: includes WASM compilation and lazy init), then `warmup`
 * more runs are discarded and `runs` runs are timed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCompetitor } from './competitors/index.js';
import { RESULT_MARKER, type ChildArgs, type ChildResult } from './protocol.js';

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
  let t = performance.now();
  let outputs = await prepared.run(input, args.workload.outputs);
  const firstDoneMs = performance.now();
  const firstRunMs = firstDoneMs - t;
  for (let i = 0; i < args.warmup; i++) outputs = await prepared.run(input, args.workload.outputs);
  const samplesMs: number[] = [];
  for (let i = 0; i < args.runs; i++) {
    t = performance.now();
    outputs = await prepared.run(input, args.workload.outputs);
    samplesMs.push(performance.now() - t);
  }
  if (args.outDir) mkdirSync(args.outDir, { recursive: true });
  return {
    ok: true,
    settings: prepared.settings,
    firstDoneMs,
    firstRunMs,
    samplesMs,
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
