/**
 * HTTP mode of the fuzz harness: generated hostile requests against the x-oss-process handler behind
 * the Node listener, over raw sockets (so targets and headers reach the server exactly as written).
 * An origin serves the fixtures under /public/ and a secret under /private/; the handler reads
 * through `fetchSource(<origin>/public/)` with an auth header.
 *
 *   npm run fuzz -- --http --cases 500 --seed 1 [--cpu 10000] [--timeout 30000] [--verbose]
 *
 * Every case must be answered within the bound with a status and, for 4xx/5xx, an OSS error body with
 * a Code (or Node's own bodiless 400/414/431 for a request its parser refuses); no request may reach /private/ or
 * leave the origin's prefix; the process must survive (no uncaught exception) and still answer a good
 * request at the end. The report gives the answers by status and Code, latency and peak RSS.
 *
 * The bound is on CPU time (`--cpu`, default 10 s: what the cost budget promises a request can take,
 * "about 10 s of one core"): requests go one at a time to a server in this process, so the process's
 * CPU time across a request (worker threads included) is that request's. Wall time on a shared machine
 * also counts the other tenants' load (at a load average of 14 on 2 cores, a request of 4 s of CPU took
 * 11 s), so the wall clock only catches hangs (`--timeout`, default 30 s).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../entries/node.js';
import { createNodeListener } from '../adapters/http/node.js';
import { fetchSource } from '../adapters/http/source.js';
import { rng } from './fuzz.js';

const IMAGES = fileURLToPath(new URL('../test/fixtures/images/', import.meta.url));
const b64 = (s: string) => Buffer.from(s).toString('base64url');

const HOSTILE_KEYS = [
  '%2F%2F100.100.100.200%2Flatest%2Fmeta-data%2F', '..%2Fprivate%2Ftoken', '%2E%2E%2Fprivate%2Ftoken', 'a%2F..%2F..%2Fprivate%2Ftoken',
  '%5C%5Cevil%5Cx', '..%5Cprivate', '%252e%252e%252fprivate', 'http:%2F%2Fevil%2Fx', '@evil%2Fx', 'a%00b', 'a%0D%0AX:%201', '%', '%zz',
  '.', '..', `${'k'.repeat(1100)}`, '%E4%B8', '%C0%AE%C0%AE%2Fprivate', '//127.0.0.1/private/token', 'a?b#c', '~', '%7F',
];
const ACTIONS = [
  () => `resize,w_${int(0, 20000)},h_${int(0, 20000)},m_${pick(['lfit', 'mfit', 'fill', 'pad', 'fixed', 'x'])},limit_${int(0, 1)}`,
  () => `resize,p_${int(0, 1000)}`, () => `crop,w_${int(0, 40000)},h_${int(0, 40000)},x_${int(-5, 5000)},y_${int(0, 5000)},g_${pick(['nw', 'se', 'center', 'zz'])}`,
  () => `rotate,${int(-10, 400)}`, () => `blur,r_${int(0, 60)},s_${int(0, 60)}`, () => `sharpen,${int(0, 500)}`, () => `bright,${int(-200, 200)}`,
  () => `contrast,${int(-200, 200)}`, () => `circle,r_${int(0, 10000)}`, () => `rounded-corners,r_${int(0, 5000)}`, () => `indexcrop,x_${int(0, 5000)},i_${int(0, 20)}`,
  () => `format,${pick(['jpg', 'png', 'webp', 'gif', 'heic', 'avif', 'svg', ''])}`, () => `quality,q_${int(0, 120)}`, () => `interlace,${int(0, 2)}`,
  () => `watermark,text_${b64(pick(['W', '版权', '<script>', '\u202e', '😀']).repeat(int(1, 70)))},size_${int(0, 1100)},rotate_${int(0, 370)},shadow_${int(0, 100)},fill_${int(0, 1)}`,
  () => `watermark,image_${b64(pick(['320x240.jpg', 'with-alpha.png', '//100.100.100.200/x', '../private/token', 'none.png', 'a?x-oss-process=image/resize,P_1000']))},g_${pick(['se', 'center'])}`,
  () => pick(['info', 'average-hue', 'auto-orient,1', 'flip,h', '', ',,,', 'resize', 'resize,w_', 'resize,w_1e9', 'resize,w_-1', `resize,${'w_1,'.repeat(200)}`]),
];
const BOMBS = [
  `image/resize,w_100/watermark,text_${b64('W'.repeat(64))},size_1000,rotate_45`,
  'image/resize,w_4096,h_4096,m_fixed,limit_0/blur,r_50,s_50',
  'image/resize,w_4096,h_4096,m_fixed,limit_0/blur,r_50,s_50/blur,r_50,s_50/blur,r_50,s_50',
  `image/crop,w_1/${Array(19).fill('blur,r_50,s_50').join('/')}`,
  `image/resize,w_4096,h_4096,m_fixed,limit_0/${Array(19).fill('sharpen,399').join('/')}`,
  'image/resize,w_16384,h_16384,m_fixed,limit_0',
];
const HOSTS = ['localhost', 'a b', 'evil.example/..', 'user@evil', '[::1', 'x:http', '', 'photos.example.com:8080', `${'h'.repeat(300)}.com`];

let random = rng(1);
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

/** One request's bytes, from (seed, index) alone. */
export function httpCase(seed: number, index: number, fixtures: readonly string[]): { target: string; headers: string[] } {
  random = rng(seed * 1_000_003 + index);
  const key = random() < 0.4 ? pick(HOSTILE_KEYS) : encodeURIComponent(pick(fixtures));
  const r = random();
  const process = r < 0.1 ? pick(BOMBS)
    : r < 0.2 ? undefined
      : r < 0.3 ? `style/${pick(['x', '..', '%00'])}`
        : `image/${Array.from({ length: int(1, 22) }, () => pick(ACTIONS)()).join('/')}`;
  const target = random() < 0.05 ? pick(['*', 'http://100.100.100.200/latest', '/%', '//']) : `/${key}${process === undefined ? '' : `?x-oss-process=${encodeURIComponent(process)}`}`;
  const headers = [`Host: ${random() < 0.7 ? 'localhost' : pick(HOSTS)}`];
  if (random() < 0.2) headers.push(`If-None-Match: ${pick(['*', '"x"', 'W/"y", "z"'])}`);
  if (random() < 0.2) headers.push(`Origin: ${pick(['https://app.example', 'null', 'https://evil.example'])}`);
  if (random() < 0.1) headers.push(`Range: bytes=${int(0, 9)}-`);
  if (random() < 0.05) headers.push(`X-Big: ${'x'.repeat(int(1000, 20000))}`);
  return { target, headers };
}

function send(port: number, target: string, headers: readonly string[], timeoutMs: number): Promise<{ status: number; body: string; ms: number } | 'timeout'> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); resolve('timeout'); }, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { text += d; });
    const done = () => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4), ms: performance.now() - started });
    };
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.write(`GET ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n`);
  });
}

export async function runHttpFuzz(options: { cases: number; seed: number; timeoutMs: number; cpuBoundMs: number; verbose?: boolean }) {
  const fixtures = readdirSync(IMAGES).filter((f) => !f.startsWith('.'));
  const originLog: string[] = [];
  const origin = createServer((req: IncomingMessage, res: ServerResponse) => {
    originLog.push(req.url ?? '');
    const name = decodeURIComponent((req.url ?? '').replace(/^\/public\//, ''));
    if (!req.url?.startsWith('/public/') || name.includes('/')) { res.writeHead(404).end(); return; }
    try {
      const bytes = readFileSync(IMAGES + name);
      res.writeHead(200, { 'content-type': 'image/jpeg', etag: `"${bytes.length}"` }).end(req.method === 'HEAD' ? undefined : bytes);
    } catch { res.writeHead(404).end(); }
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const handler = createServer(createNodeListener({
    source: fetchSource(`${originUrl}/public/`, { headers: { authorization: 'Bearer fuzz' } }),
    allowedOrigins: ['https://app.example'], styles: { x: 'image/resize,w_10' },
  }));
  await new Promise<void>((r) => handler.listen(0, '127.0.0.1', r));
  const port = (handler.address() as AddressInfo).port;
  const uncaught: string[] = [];
  const onUncaught = (e: unknown) => { uncaught.push(String(e)); };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);

  const byAnswer: Record<string, number> = {};
  const failures: string[] = [];
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let peakRss = process.memoryUsage().rss;
  const started = performance.now();
  for (let i = 0; i < options.cases; i++) {
    const c = httpCase(options.seed, i, fixtures);
    const cpuBefore = process.cpuUsage();
    const answer = await send(port, c.target, c.headers, options.timeoutMs);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    let label: string;
    if (answer === 'timeout') {
      label = 'timeout';
      failures.push(`#${i} ${c.target.slice(0, 120)}: no answer within ${options.timeoutMs} ms`);
    } else {
      times.push(answer.ms);
      cpuTimes.push(cpuMs);
      if (cpuMs > options.cpuBoundMs) failures.push(`#${i} ${c.target.slice(0, 120)}: ${cpuMs.toFixed(0)} ms of CPU, over ${options.cpuBoundMs}`);
      const code = /<Code>([A-Za-z]+)<\/Code>/.exec(answer.body)?.[1];
      label = `${answer.status}${code ? ` ${code}` : ''}`;
      const typed = answer.status >= 200 && answer.status < 400 ? true : code !== undefined || ([400, 414, 431].includes(answer.status) && answer.body.length === 0);
      if (!typed || answer.status === 0 || answer.status >= 500 && code === 'InternalError') failures.push(`#${i} ${c.target.slice(0, 120)} [${c.headers[0]}]: ${label} ${answer.body.slice(0, 200)}`);
    }
    byAnswer[label] = (byAnswer[label] ?? 0) + 1;
    if (options.verbose) console.log(`#${i} ${label} ${c.target.slice(0, 100)}`);
  }
  const escaped = originLog.filter((u) => !u.startsWith('/public/'));
  const last = await send(port, `/320x240.jpg?x-oss-process=${encodeURIComponent('image/resize,w_10')}`, ['Host: localhost'], options.timeoutMs);
  const survived = last !== 'timeout' && last.status === 200 && uncaught.length === 0;
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await Promise.all([handler, origin].map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  return {
    cases: options.cases, seconds: (performance.now() - started) / 1000, byAnswer, failures, escaped, uncaught, survived,
    p50: times[Math.floor(times.length / 2)] ?? 0, max: times[times.length - 1] ?? 0, peakRssMb: Math.round(peakRss / 1e6),
    cpuP50: cpuTimes[Math.floor(cpuTimes.length / 2)] ?? 0, cpuMax: cpuTimes[cpuTimes.length - 1] ?? 0,
  };
}

export async function cli(arg: (name: string, fallback: number) => number): Promise<void> {
  const seed = arg('seed', 1), cases = arg('cases', 300), timeoutMs = arg('timeout', 30_000), cpuBoundMs = arg('cpu', 10_000);
  const s = await runHttpFuzz({ cases, seed, timeoutMs, cpuBoundMs, verbose: process.argv.includes('--verbose') });
  console.log(`\nhttp fuzz seed ${seed}: ${s.cases} requests in ${s.seconds.toFixed(1)} s; latency p50 ${s.p50.toFixed(0)} ms, max ${s.max.toFixed(0)} ms; CPU per request p50 ${s.cpuP50.toFixed(0)} ms, max ${s.cpuMax.toFixed(0)} ms (bound ${cpuBoundMs}); peak RSS ${s.peakRssMb} MB`);
  for (const [k, v] of Object.entries(s.byAnswer).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(28)} ${v}`);
  console.log(`  untyped or failed answers ${s.failures.length}, requests outside the origin prefix ${s.escaped.length}, uncaught ${s.uncaught.length}, survived ${s.survived}`);
  for (const f of [...s.failures, ...s.escaped, ...s.uncaught].slice(0, 20)) console.log(`  ! ${f}`);
  process.exitCode = s.failures.length + s.escaped.length + s.uncaught.length > 0 || !s.survived ? 1 : 0;
}
