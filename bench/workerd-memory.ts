/**
 * The upload recipe inside workerd (the Worker example, examples/worker, through miniflare) on a
 * 12 MP phone JPEG, and how much memory it took, against Workers' 128 MB per isolate:
 *
 *   npm run build && npx tsx bench/workerd-memory.ts [--runs 3] [--input path/to.jpg]
 *
 * workerd runs the one isolate in a process of its own, so the process's resident memory before the
 * first request and its high-water mark after each request (VmRSS and VmHWM in /proc/<pid>/status)
 * bound what the isolate grew by: JavaScript heap, WebAssembly memories and the request and response
 * bodies, plus whatever workerd itself allocates for the requests. Linux only (reads /proc).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
// The runtime tests' way of starting the Worker example in workerd, so both measure the same thing.
import { startWorker } from '../test/runtimes/harness.js';
import { ensureInput } from './inputs.js';

const LIMIT_MIB = 128;
const MIB = 1024 * 1024;

/** The workerd processes started by this process (miniflare spawns the binary directly). */
function workerdPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const name = /^Name:\s+(\S+)/m.exec(status)?.[1];
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      if (name === 'workerd' && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // The process ended while it was being read.
    }
  }
  return pids;
}

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, input: { type: 'string' } }, strict: true });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`Expected an integer >= 1 for --runs but received "${values.runs}"`);
  const input = values.input ?? (await ensureInput('phone', (line) => process.stderr.write(`${line}\n`)));
  const bytes = readFileSync(input);

  // The upload is POSTed: the origin is never asked.
  const mf = await startWorker('http://127.0.0.1:9');
  try {
    const pids = workerdPids();
    if (pids.length !== 1) throw new Error(`Expected one workerd process started by miniflare but found ${pids.length}`);
    const pid = pids[0];
    const before = memory(pid);
    console.log(`input: ${basename(input)}, ${(bytes.byteLength / MIB).toFixed(1)} MiB`);
    console.log(`workerd before the first request: RSS ${(before.rss / MIB).toFixed(0)} MiB, peak ${(before.hwm / MIB).toFixed(0)} MiB`);
    for (let i = 1; i <= runs; i++) {
      const t = performance.now();
      const res = await mf.dispatchFetch(`http://imgpipe.example/recipe/${basename(input)}`, { method: 'POST', body: bytes });
      const body = (await res.json()) as { variants?: { width: number; height: number }[]; code?: string; message?: string };
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`Expected the recipe to succeed but workerd answered ${res.status}: ${body.code}: ${body.message}`);
      const now = memory(pid);
      const grown = (now.hwm - before.rss) / MIB;
      console.log(
        `request ${i}: ${res.status}, ${body.variants?.length} variants (largest ${body.variants?.[0]?.width}x${body.variants?.[0]?.height}) in ${ms.toFixed(0)} ms; ` +
          `workerd peak ${(now.hwm / MIB).toFixed(0)} MiB, RSS ${(now.rss / MIB).toFixed(0)} MiB; peak over the idle process: ${grown.toFixed(0)} MiB ` +
          `(${grown <= LIMIT_MIB ? 'within' : 'OVER'} the ${LIMIT_MIB} MiB isolate limit)`,
      );
    }
  } finally {
    await mf.dispose();
  }
}

await main();
