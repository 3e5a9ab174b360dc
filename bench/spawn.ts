/**
 * Runs one benchmark child (bench/child.ts) in a fresh process and reads its result line. The
 * orchestrator (run.ts) spawns one per competitor, workload and thread mode, and one per cold-start
 * sample.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, CACHE_DIR, ROOT_DIR } from './inputs.js';
import { RESULT_MARKER, type ChildArgs, type ChildResult } from './protocol.js';

/** A child that has not answered by then is killed (a hung library, a swap storm). */
const CHILD_TIMEOUT_MS = 15 * 60_000;

export interface Spawned {
  readonly result: ChildResult;
  /** Spawn to exit, measured here: the whole process, as a cold FC start would see it. */
  readonly wallMs: number;
}

/**
 * bench/child.ts bundled to plain JavaScript, built once per run. The children run it under plain
 * `node`, as a user's process runs a library: under the tsx loader every imported JavaScript module
 * goes through its hooks, which made importing imgpipe's built package take ~70 ms instead of 12
 * (sharp's native addon, ~80 ms either way, barely noticed), and that showed up in the cold start.
 * The libraries themselves stay external: each child imports exactly what a user installs.
 */
let childScript: Promise<string> | undefined;

async function buildChild(): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(CACHE_DIR, 'child.mjs');
  await build({
    entryPoints: [join(BENCH_DIR, 'child.ts')],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    // The bench's modules find the project (and resolve packages) from where their sources are.
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(BENCH_DIR, 'child.ts')).href) },
    logLevel: 'warning',
  });
  return outfile;
}

export async function runChild(args: ChildArgs): Promise<Spawned> {
  const script = await (childScript ??= buildChild());
  const env = { ...process.env };
  // One libuv worker in single-thread mode, so neither sharp nor imgpipe can fan out behind our back.
  if (args.threads === 'single') env.UV_THREADPOOL_SIZE = '1';
  else delete env.UV_THREADPOOL_SIZE;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [script, JSON.stringify(args)], {
      cwd: ROOT_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (line) {
        resolve({ result: JSON.parse(line.slice(RESULT_MARKER.length)) as ChildResult, wallMs });
        return;
      }
      const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ' (timeout or out of memory)' : ''}` : `exit code ${code}`;
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      resolve({ result: { ok: false, error: `child died: ${why}${tail ? `: ${tail}` : ''}` }, wallMs });
    });
  });
}
