/** Shared set-up of the backfill suites: a local server seeded with a mixed bucket, and the CLI as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createUploadHandler } from '../../../adapters/fc/handler.js';
import type { LocalOss } from '../../../adapters/local-oss/server.js';
import { DEFAULT_RECIPE } from '../../../src/recipe.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = resolve(HERE, '../../fixtures');
export const REPO = resolve(HERE, '../../..');
export const credential = { accessKeyId: 'LTAIbackfilltest01', accessKeySecret: 'backfill-secret-do-not-log' };

export interface Seeded {
  /** Keys the plan must classify as each class. */
  readonly expected: { missing: string[]; stale: string[]; 'up-to-date': string[]; skip: string[] };
  /** Keys that fail (corrupt), among missing. */
  readonly corrupt: string[];
}

/**
 * A mixed source prefix: JPEG, PNG, WebP, GIF; corrupt files; non-images; hostile keys; two sets
 * already up to date, one stale by recipe, one stale by a new source ETag.
 */
export async function seedMixed(server: LocalOss, bucket: string, target: string): Promise<Seeded> {
  const img = (f: string) => readFile(join(FIXTURES, 'images', f));
  const bad = (f: string) => readFile(join(FIXTURES, 'bad', f));
  const s = server.storage(bucket);
  const put = async (key: string, bytes: Uint8Array) => s.put(key, bytes, { contentType: 'application/octet-stream' });
  const missing: Record<string, Promise<Buffer>> = {
    'uploads/a/320x240.jpg': img('320x240.jpg'),
    'uploads/a/landscape 1.jpg': img('Landscape_1.jpg'),
    'uploads/b/4.webp': img('4.webp'),
    'uploads/b/bggn4a16.png': img('bggn4a16.png'),
    'uploads/b/with-alpha.PNG': img('with-alpha.png'),
    'uploads/c/animated.gif': img('animated-loop-3.gif'),
    'uploads/c/grey.jpeg': img('grey-1-component.jpg'),
    // Hostile keys: spaces, '+', a literal %20, '#', '?', quotes, a comma, non-ASCII, an emoji.
    'uploads/hostile/sp ace+plus %20 #hash ?q.jpg': img('concert.jpg'),
    'uploads/hostile/quote"comma,semi;.jpg': img('320x240.jpg'),
    'uploads/hostile/ünïcödé 写真 😀.png': img('tbgn2c16.png'),
  };
  const corrupt: Record<string, Promise<Buffer>> = {
    'uploads/broken/truncated.jpg': bad('truncated.jpg'),
    'uploads/broken/corrupt-header.jpg': bad('corrupt-header.jpg'),
    'uploads/broken/text-named.png': Promise.resolve(Buffer.from('this is not a PNG at all')),
  };
  const skip: Record<string, Promise<Buffer>> = {
    'uploads/notes.txt': Promise.resolve(Buffer.from('hello')),
    'uploads/no-extension': img('320x240.jpg'),
    'uploads/empty.jpg': Promise.resolve(Buffer.alloc(0)),
    'uploads/data.json': Promise.resolve(Buffer.from('{}')),
  };
  for (const [k, v] of Object.entries({ ...missing, ...corrupt, ...skip })) await put(k, await v);
  // Already processed: two up to date, one by another recipe, one whose source changed since.
  const done = ['uploads/done/flowers.jpeg', 'uploads/done/concert.jpg', 'uploads/stale/recipe.jpg', 'uploads/stale/source.jpg'];
  await put(done[0], await img('flowers.jpeg'));
  await put(done[1], await img('concert.jpg'));
  await put(done[2], await img('Landscape_2.jpg'));
  await put(done[3], await img('Landscape_3.jpg'));
  const opts = { sourceBucket: bucket, targetBucket: target, sourcePrefix: 'uploads/', env: { IMGPIPE_OSS_ENDPOINT: server.endpoint }, log: () => undefined };
  const context = { credentials: { ...credential } };
  const upload = createUploadHandler(opts);
  const other = createUploadHandler({ ...opts, recipe: { ...DEFAULT_RECIPE, sizes: DEFAULT_RECIPE.sizes.slice(1) } });
  const event = (key: string, etag: string) => Buffer.from(JSON.stringify({ events: [{ eventName: 'ObjectCreated:PutObject', eventSource: 'acs:oss', region: 'cn-hangzhou', oss: { bucket: { name: bucket }, object: { key, eTag: etag, size: 1 } }, responseElements: { requestId: key } }] }));
  for (const k of [done[0], done[1], done[3]]) await upload.handler(event(k, (await s.head(k))!.etag), context);
  await other.handler(event(done[2], (await s.head(done[2]))!.etag), context);
  await put(done[3], await img('Landscape_4.jpg'));
  return {
    expected: {
      missing: [...Object.keys(missing), ...Object.keys(corrupt)].sort(),
      stale: [done[2], done[3]].sort(),
      'up-to-date': [done[0], done[1]].sort(),
      skip: Object.keys(skip).sort(),
    },
    corrupt: Object.keys(corrupt).sort(),
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `imgpipe …` as a child process (the real CLI, from the sources), in `cwd`. */
export function cli(args: readonly string[], options: { cwd: string; env?: Record<string, string>; onStdout?: (chunk: string, child: ChildProcess) => void }): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(REPO, 'node_modules/tsx/dist/esm/index.mjs')).href, join(REPO, 'adapters/cli/main.ts'), ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ALIBABA_CLOUD_ACCESS_KEY_ID: credential.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: credential.accessKeySecret, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      options.onStdout?.(c.toString(), child);
    });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** The last JSON line of an output. */
export function lastJson(text: string): Record<string, unknown> {
  const lines = text.trim().split('\n').filter((l) => l.startsWith('{'));
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}
