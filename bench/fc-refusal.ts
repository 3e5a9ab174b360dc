/**
 * What a 503 SlowDown costs the FC HTTP handler while every transform is refused: the handler given
 * options (the refusal answered from the event before a Request is built, early.ts) against the same
 * handler given as a function (every refusal built as a Request and answered by the fetch handler).
 * In-process, the event a Buffer as FC's runtime hands it over, the standard photo in a local store.
 * CPU per refusal (`process.cpuUsage()`), three alternating rounds of 5,000 after 500 to warm up.
 *
 *   npx tsx bench/fc-refusal.ts
 */
import '../entries/node.js';
import { createFcHttpHandler } from '../adapters/http/fc.js';
import { createFetchHandler } from '../adapters/http/handler.js';
import { createAdmission } from '../adapters/http/admission.js';
import { storageSource } from '../adapters/http/source.js';
import { createFsStorage } from '../adapters/storage.js';
import { copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INPUTS } from './inputs.js';

const dir = join(tmpdir(), `fcref-${process.pid}`);
mkdirSync(join(dir, 'bench'), { recursive: true });
copyFileSync(INPUTS.photo.path, join(dir, 'bench', 'photo.jpg'));
const source = storageSource(createFsStorage({ root: dir, bucket: 'bench' }));
const event = (p: string) => Buffer.from(JSON.stringify({ version: 'v1', rawPath: '/photo.jpg', body: '', isBase64Encoded: false, headers: { host: 'img.example.com', 'user-agent': 'x', accept: '*/*' }, queryParameters: { 'x-oss-process': p }, requestContext: { domainName: 'img.example.com', http: { method: 'GET', path: '/photo.jpg' } } }));
for (const round of [0, 1, 2]) {
  for (const early of [true, false]) {
    const admission = createAdmission({ maxInFlight: 1, maxQueue: 0 });
    const pass = await admission.enter(); // every transform refused
    const opts = { source, admission, pool: false as const };
    const h = early ? createFcHttpHandler(opts) : createFcHttpHandler(createFetchHandler(opts));
    const ev = event('image/resize,w_720/format,webp');
    for (let i = 0; i < 500; i++) await h(ev); // warm, and the object seen
    const n = 5000;
    const before = process.cpuUsage();
    let s503 = 0;
    for (let i = 0; i < n; i++) if ((await h(ev)).statusCode === 503) s503++;
    const u = process.cpuUsage(before);
    console.log(round, early ? 'early  ' : 'handler', ((u.user + u.system) / 1000 / n).toFixed(4), 'ms CPU per refusal', s503 === n);
    pass.leave();
  }
}
