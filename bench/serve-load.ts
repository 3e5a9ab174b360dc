/**
 * x-oss-process over HTTP under load, imgpipe against ipx (unjs, sharp underneath), on the same machine,
 * images and 127.0.0.1. Each (server, connections) run starts a fresh server process, so its peak RSS
 * (VmHWM, worker threads included) is that run's alone.
 *
 *   npm run build && npx tsx bench/serve-load.ts [--seconds 10] [--connections 8,64,256] [--threads N] [--servers imgpipe,ipx] [--honour-retry-after] [--rounds N] [--probe-at 64]
 *
 * Request: a 720 px WebP (`image/resize,w_720/format,webp` / ipx `w_720,f_webp`) of the standard photo
 * (2725x2225, 829 KB); at 256 connections of the 5640x3172 Elephants photo (Debian mate-backgrounds,
 * fetched into bench/.cache/). The load generator is built in: N keep-alive connections each sending
 * the next request as soon as the last is answered, a 10 s client timeout counted as an error; a 503 is
 * retried at once (the worst case), or with `--honour-retry-after` after its `Retry-After` seconds, as a
 * polite client (a CDN, an SDK's retry) does. During
 * the 64-connection run (`--probe-at N`: the N-connection run; 0: none) a probe sends one cheap request every 100 ms (imgpipe: `image/info`; both: a
 * missing key, 404), on a fixed schedule whatever the answers, and records each latency. The generator shares the machine's cores with the server.
 * CPU per image is the server process's CPU time over the run (/proc/<pid>/stat, every thread) divided
 * by the 200 answers, and in brackets its split: the main thread, imgpipe's pool workers (the busiest
 * threads, as many as the pool has) and every other thread (GC, compilers, libuv; ipx: all but main). `--threads` sizes imgpipe's worker pool (default: one per vCPU,
 * as `imgpipe serve`); `--servers` runs only some of the servers. `--cpu-prof <dir>` runs imgpipe's server
 * with Node's `--cpu-prof`: a .cpuprofile per thread (the main thread and each pool worker) in <dir>.
 * imgpipe reads through `storageSource` keeping 64 MB of recent sources, as `imgpipe serve` does
 * (`--source-cache-mb 0`: none, every request reads its source).
 * `--rounds N` runs every (connections, server) pair N times, the servers' order reversed each round, and
 * prints each round's imgpipe / ipx ratios and their median: this shared VM drifts by up to a third within
 * an hour, so one pair of runs minutes apart can favour either server (0.86x and 0.97x at 64 connections
 * ten minutes apart), and only servers taking turns compare like with like.
 * Results: a table on stdout and bench/results/serve-load.json (with the 200 answers' own p50/p99, the
 * 503s by reason, and the server's minor page faults per image: memory it touched afresh).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Agent, get as httpGet, createServer } from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_DIR, INPUTS, ROOT_DIR, ensureElephants } from './inputs.js';
import { summarize } from './stats.js';

const SELF = fileURLToPath(import.meta.url);
const TIMEOUT_MS = 10_000;

type ServerName = 'imgpipe' | 'ipx';

// ---- server mode: one server on an ephemeral port, printed on stdout -------------------------------
async function serve(name: ServerName, dir: string, threads: number | undefined, cacheBytes: number): Promise<void> {
  let listener: Parameters<typeof createServer>[1];
  if (name === 'imgpipe') {
    await import('../entries/node.js');
    const { createNodeListener } = await import('../adapters/http/node.js');
    const { storageSource } = await import('../adapters/http/source.js');
    const { createFsStorage } = await import('../adapters/storage.js');
    const { createWorkerPool } = await import('../pool/index.js');
    // Default: what `imgpipe serve` does (a thread per vCPU); --threads sizes the pool for comparisons.
    const pool = createWorkerPool(threads === undefined ? {} : { threads });
    listener = createNodeListener({ source: storageSource(createFsStorage({ root: dir, bucket: 'bench' }), { cacheBytes }), pool });
    // Profiles are written when a thread exits: stop the workers, then the process (--cpu-prof).
    process.once('SIGTERM', () => { void pool.close().then(() => process.exit(0)); });
  } else {
    const { createIPX, ipxFSStorage, createIPXNodeServer } = await import('ipx');
    listener = createIPXNodeServer(createIPX({ storage: ipxFSStorage({ dir: join(dir, 'bench') }) }));
  }
  const server = createServer(listener);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(`PORT ${typeof address === 'object' && address ? address.port : 0}`);
  });
}

// ---- load generator ----------------------------------------------------------------------------
interface Run {
  readonly requests: number;
  readonly ok: number;
  readonly status503: number;
  readonly with503RetryAfter: number;
  readonly otherStatus: number;
  readonly errors: number;
  readonly latencies: number[];
  /** Latencies of the 200 answers alone (a quick 503 would otherwise pull the percentiles down). */
  readonly okLatencies: number[];
  /** 503s by reason (refusalKind). */
  readonly refusals: Record<string, number>;
}

/** Why a 503 was refused, from its OSS message (admission.ts's wording): a full queue, or a wait of maxWaitMs. */
function refusalKind(xml: string): string {
  if (/are waiting \(maxQueue/.test(xml)) return 'queueFull';
  if (/waited \d+ ms/.test(xml)) return 'waitedTooLong';
  return 'other';
}

function request(url: string, agent: Agent): Promise<{ status: number; retryAfter: number | undefined; refusal?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent }, (res) => {
      const after = res.headers['retry-after'];
      // A 503's body says why (it is small); any other body is read and dropped.
      let text = '';
      if (res.statusCode === 503) res.setEncoding('utf8').on('data', (d: string) => { text += d; });
      else res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: after === undefined ? undefined : Number(after), refusal: res.statusCode === 503 ? refusalKind(text) : undefined }));
      res.on('error', reject);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function load(url: string, connections: number, seconds: number, honourRetryAfter = false): Promise<Run & { rps: number; okRps: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const end = performance.now() + seconds * 1000;
  const r = { requests: 0, ok: 0, status503: 0, with503RetryAfter: 0, otherStatus: 0, errors: 0, latencies: [] as number[], okLatencies: [] as number[], refusals: {} as Record<string, number> };
  // Only answers that arrive within the window count toward req/s (the drain after it is not timed).
  let inWindow = 0, okInWindow = 0;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const { status, retryAfter, refusal } = await request(url, agent);
        const ms = performance.now() - t0;
        r.latencies.push(ms);
        if (status === 200) r.okLatencies.push(ms);
        if (refusal) r.refusals[refusal] = (r.refusals[refusal] ?? 0) + 1;
        r.requests++;
        const inside = performance.now() <= end;
        if (inside) inWindow++;
        if (status === 200) { r.ok++; if (inside) okInWindow++; }
        else if (status === 503) { r.status503++; if (retryAfter !== undefined) r.with503RetryAfter++; }
        else r.otherStatus++;
        if (honourRetryAfter && status === 503 && retryAfter !== undefined && retryAfter > 0) {
          await new Promise((w) => setTimeout(w, Math.min(retryAfter * 1000, end - performance.now())));
        }
      } catch {
        r.errors++;
      }
    }
  }));
  agent.destroy();
  return { ...r, rps: inWindow / seconds, okRps: okInWindow / seconds };
}

/** How often a probe sends its request. */
const PROBE_EVERY_MS = 100;

/**
 * One cheap request every PROBE_EVERY_MS on a fixed schedule, whatever the answers (open loop), each
 * latency timed from its own send. Both servers get the same probe load this way: sent 100 ms after
 * each answer instead, a server answering in 3 ms got ~430 probes in a 20 s run against ~30 for one
 * answering in 500 ms, about 1% of its CPU, and the slow answers held the next probes back (so a
 * slow server's worst moments went unsampled).
 */
async function probe(url: string, stop: () => boolean): Promise<number[]> {
  const agent = new Agent({ keepAlive: true });
  const sent: Promise<number>[] = [];
  const start = performance.now();
  for (let i = 0; !stop(); i++) {
    const wait = start + i * PROBE_EVERY_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (stop()) break;
    const t0 = performance.now();
    sent.push(request(url, agent).then(() => performance.now() - t0, () => TIMEOUT_MS));
  }
  const out = await Promise.all(sent);
  agent.destroy();
  return out;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/**
 * CPU time (user + system, ms) of the server so far, from /proc: `all` the process's (every thread,
 * those that have ended too: libvips starts and stops threads), `main` the main thread's (the task
 * whose id is the process's), and `tasks` each live thread's by task id. Differences over the run,
 * divided by the images served, are CPU per image.
 */
interface CpuSnapshot { readonly all: number; readonly main: number; readonly tasks: ReadonlyMap<string, number>; readonly minorFaults: number }

function cpuMs(pid: number): CpuSnapshot {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux.
  // Fields after the command (which may hold spaces) start at state; utime and stime are fields 14 and 15.
  const ms = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * tick;
  };
  const tasks = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      tasks.set(task, ms(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8')));
    } catch {
      // The thread ended between the listing and the read: `all` still counts it.
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // minflt (field 10): pages the process touched for the first time since it had them (fresh or given back).
  const minorFaults = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  return { all: ms(stat), main: ms(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')), tasks, minorFaults };
}

/**
 * CPU ms per image served (200) over a run, refusals' cost included: every thread, the main thread,
 * the `poolThreads` busiest other threads (imgpipe's pool workers: Node names every thread "node", so
 * they are told by what they did), and the rest (V8's GC and compiler threads, libuv's thread pool;
 * for ipx, libvips's and sharp's threads).
 */
function cpuPerImage(before: CpuSnapshot, after: CpuSnapshot, images: number, pid: number, poolThreads: number): { all: number; main: number; pool?: number; other: number } {
  const per = (ms: number) => +(ms / Math.max(1, images)).toFixed(1);
  const others = [...after.tasks].filter(([t]) => t !== String(pid)).map(([t, ms]) => ms - (before.tasks.get(t) ?? 0)).sort((a, b) => b - a);
  const pool = others.slice(0, poolThreads).reduce((sum, ms) => sum + ms, 0);
  const all = after.all - before.all;
  const main = after.main - before.main;
  return { all: per(all), main: per(main), pool: poolThreads > 0 ? per(pool) : undefined, other: per(all - main - pool) };
}

function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function start(name: ServerName, dir: string, threads: string | undefined, cpuProf: string | undefined, cacheMb: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [...process.execArgv, ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : []), SELF, '--serve', name, '--dir', dir, '--source-cache-mb', cacheMb, ...(threads ? ['--threads', threads] : [])], { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /PORT (\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { serve: { type: 'string' }, dir: { type: 'string' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '8,64,256' }, threads: { type: 'string' }, servers: { type: 'string', default: 'imgpipe,ipx' }, 'honour-retry-after': { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' }, 'source-cache-mb': { type: 'string', default: '64' }, rounds: { type: 'string', default: '1' }, 'probe-at': { type: 'string', default: '64' } } });
  if (values.serve) return serve(values.serve as ServerName, values.dir!, values.threads === undefined ? undefined : Number(values.threads), Number(values['source-cache-mb']) * 1024 * 1024);
  if (!existsSync(join(ROOT_DIR, 'dist/pool-worker.js'))) throw new Error('build imgpipe first (npm run build): the pool runs dist/pool-worker.js');
  const seconds = Number(values.seconds);
  const levels = values.connections.split(',').map(Number);
  const dir = join(tmpdir(), `imgpipe-serve-load-${process.pid}`);
  mkdirSync(join(dir, 'bench'), { recursive: true });
  copyFileSync(INPUTS.photo.path, join(dir, 'bench', 'photo.jpg'));
  copyFileSync(ensureElephants((l) => console.error(l)), join(dir, 'bench', 'big.jpg'));
  const paths = {
    imgpipe: (file: string) => `/${file}?x-oss-process=${encodeURIComponent('image/resize,w_720/format,webp')}`,
    ipx: (file: string) => `/w_720,f_webp/${file}`,
  };
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a whole number of at least 1 but received ${values.rounds}`);
  const servers = values.servers.split(',') as ServerName[];
  const rows: Record<string, unknown>[] = [];
  for (let round = 1; round <= rounds; round++) for (const connections of levels) {
    const file = connections >= 256 ? 'big.jpg' : 'photo.jpg';
    // Odd rounds in the order given, even rounds reversed: neither server always runs on the fresher machine.
    for (const name of round % 2 === 1 ? servers : [...servers].reverse()) {
      const { child, base } = await start(name, dir, name === 'imgpipe' ? values.threads : undefined, name === 'imgpipe' ? values['cpu-prof'] : undefined, values['source-cache-mb']);
      // One request first: compiles WASM / loads libvips, as any warm instance has.
      await load(base + paths[name](file), 1, 0.5);
      let done = false;
      const probes = connections === Number(values['probe-at'])
        ? [probe(name === 'imgpipe' ? `${base}/missing.jpg?x-oss-process=image/resize,w_720` : `${base}/w_720/missing.jpg`, () => done),
          name === 'imgpipe' ? probe(`${base}/${file}?x-oss-process=image/info`, () => done) : Promise.resolve([])]
        : [];
      const cpuBefore = cpuMs(child.pid!);
      const r = await load(base + paths[name](file), connections, seconds, values['honour-retry-after']);
      const cpuAfter = cpuMs(child.pid!);
      const faultsPerImage = Math.round((cpuAfter.minorFaults - cpuBefore.minorFaults) / Math.max(1, r.ok));
      const cpu = cpuPerImage(cpuBefore, cpuAfter, r.ok, child.pid!, name === 'imgpipe' ? (values.threads ? Number(values.threads) : availableParallelism()) : 0);
      done = true;
      const [notFound = [], info = []] = await Promise.all(probes);
      const row = {
        server: name, connections, ...(rounds > 1 ? { round } : {}), source: file === 'big.jpg' ? INPUTS.elephants.label : INPUTS.photo.label,
        rps: +r.rps.toFixed(1), imagesPerS: +r.okRps.toFixed(1), okShare: +(r.ok / Math.max(1, r.requests)).toFixed(3), ok: r.ok, status503: r.status503, retryAfterOn503: r.with503RetryAfter,
        otherStatus: r.otherStatus, clientErrors: r.errors,
        p50: Math.round(pct(r.latencies, 50)), p99: Math.round(pct(r.latencies, 99)),
        okP50: Math.round(pct(r.okLatencies, 50)), okP99: Math.round(pct(r.okLatencies, 99)), refusals: r.status503 ? r.refusals : undefined,
        cpuMsPerImage: cpu.all, mainThreadCpuMsPerImage: cpu.main, poolThreadsCpuMsPerImage: cpu.pool, otherThreadsCpuMsPerImage: cpu.other, peakRssMb: Math.round(peakRssMb(child)), minorFaultsPerImage: faultsPerImage,
        probe404: notFound.length ? { n: notFound.length, p50: Math.round(pct(notFound, 50)), max: Math.round(Math.max(...notFound)) } : undefined,
        probeInfo: info.length ? { n: info.length, p50: Math.round(pct(info, 50)), max: Math.round(Math.max(...info)) } : undefined,
      };
      rows.push(row);
      console.error(JSON.stringify(row));
      child.kill();
      await new Promise((r) => child.once('exit', r));
    }
  }
  const machine = `${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, Node ${process.versions.node}`;
  const out = { command: `npx tsx bench/serve-load.ts --seconds ${seconds} --connections ${levels.join(',')}${rounds > 1 ? ` --rounds ${rounds}` : ''}${values['probe-at'] !== '64' ? ` --probe-at ${values['probe-at']}` : ''}${values.threads ? ` --threads ${values.threads}` : ''}${values.servers !== 'imgpipe,ipx' ? ` --servers ${values.servers}` : ''}${values['honour-retry-after'] ? ' --honour-retry-after' : ''}${values['source-cache-mb'] !== '64' ? ` --source-cache-mb ${values['source-cache-mb']}` : ''}`, machine, date: new Date().toISOString(), rows };
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  writeFileSync(join(BENCH_DIR, 'results/serve-load.json'), `${JSON.stringify(out, null, 2)}\n`);
  const head = rounds > 1 ? '| round ' : '';
  console.log(head + '| server | conns | source | req/s | images/s (200) | 200 share | 503 (with Retry-After) | other | client errors | p50 ms | p99 ms | CPU ms/image (main / pool / other threads) | peak RSS MB | 404 probe p50/max ms | info probe p50/max ms |');
  console.log((rounds > 1 ? '| --- ' : '') + '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows as Record<string, never>[]) {
    const p = (x?: { p50: number; max: number }) => (x ? `${x.p50} / ${x.max}` : '');
    console.log(`${rounds > 1 ? `| ${r.round} ` : ''}| ${r.server} | ${r.connections} | ${r.source === INPUTS.elephants.label ? '5640x3172' : '2725x2225'} | ${r.rps} | ${r.imagesPerS} | ${r.okShare} | ${r.status503} (${r.retryAfterOn503}) | ${r.otherStatus} | ${r.clientErrors} | ${r.p50} | ${r.p99} | ${r.cpuMsPerImage} (${r.mainThreadCpuMsPerImage} / ${r.poolThreadsCpuMsPerImage ?? '-'} / ${r.otherThreadsCpuMsPerImage}) | ${r.peakRssMb} | ${p(r.probe404)} | ${p(r.probeInfo)} |`);
  }
  if (rounds > 1 && servers.length === 2) printRoundRatios(rows as unknown as RoundRow[], levels);
}

interface RoundRow { readonly server: ServerName; readonly connections: number; readonly round: number; readonly imagesPerS: number; readonly p99: number }

/** Per connection count, each round's imgpipe / ipx images/s and p99, and the medians over the rounds. */
function printRoundRatios(rows: readonly RoundRow[], levels: readonly number[]): void {
  const median = (xs: number[]) => summarize(xs).median;
  console.log('\n| conns | images/s, imgpipe / ipx, each round | median | p99, imgpipe / ipx, each round | median |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const connections of levels) {
    const pairs = [...new Set(rows.map((r) => r.round))].map((round) => {
      const [a, b] = (['imgpipe', 'ipx'] as const).map((s) => rows.find((r) => r.round === round && r.connections === connections && r.server === s)!);
      return { rate: a.imagesPerS / b.imagesPerS, p99: a.p99 / b.p99 };
    });
    const f = (x: number) => `${x.toFixed(2)}x`;
    console.log(`| ${connections} | ${pairs.map((p) => f(p.rate)).join(', ')} | **${f(median(pairs.map((p) => p.rate)))}** | ${pairs.map((p) => f(p.p99)).join(', ')} | **${f(median(pairs.map((p) => p.p99)))}** |`);
  }
}

await main();
