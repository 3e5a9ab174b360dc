/**
 * `imgpipe serve`: the whole pipeline on a laptop. Starts the local OSS-compatible server on a
 * folder, and wires its object-created events to the same upload handler Function Compute runs, so
 * an upload with ali-oss, ossutil-style tools or curl turns into variants and a manifest on disk.
 * A second port serves the browser preview (examples/preview with the package's browser bundle and
 * WASM) and x-oss-process over HTTP on the same buckets: GET /<bucket>/<key>?x-oss-process=...
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createUploadHandler, type UploadHandler } from '../fc/handler.js';
import { createNodeListener } from '../http/node.js';
import { storageSource, type ImageSource } from '../http/source.js';
import { startLocalOss, type LocalOss } from '../local-oss/server.js';

const USAGE = `Usage: imgpipe serve [options]

Runs a local OSS-compatible server and processes uploads into variants.

Options:
  --root <dir>             folder the buckets live in (default ./.imgpipe-oss): <dir>/<bucket>/<key>
                           is an object's bytes, so files copied into <dir>/<bucket>/ are served as
                           they are (ETag and content type derived on first read); headers and
                           metadata of uploads are kept in <dir>/.meta/
  --host <addr>            address to listen on (default 127.0.0.1)
  --port <n>               port (default 9000; 0 picks a free one)
  --bucket <name>          source bucket (default photos)
  --target-bucket <name>   bucket for variants and manifests (default: the source bucket)
  --source-prefix <p>      only keys under this prefix are processed (default uploads/)
  --event <oss|cloudevent> event shape delivered to the handler (default oss)
  --no-pipeline            serve objects only; do not process uploads
  --anonymous              also accept unsigned requests (e.g. curl -T photo.jpg <endpoint>/photos/uploads/)
  --region <id>            region reported in events (default cn-hangzhou)
  --http-port <n>          port of the preview page and x-oss-process over HTTP (default: --port + 1,
                           or a free one with --port 0)
  --no-http                no preview page and no x-oss-process port
  --negotiate              answer x-oss-process without a format as AVIF or WebP when Accept allows (Vary: Accept)
  -h, --help               show this help

Credentials: IMGPIPE_LOCAL_ACCESS_KEY_ID and IMGPIPE_LOCAL_ACCESS_KEY_SECRET, or a pair generated
and printed at start.`;

/** Run the command until SIGINT/SIGTERM. Resolves the process exit code. */
export async function serveCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        root: { type: 'string', default: '.imgpipe-oss' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '9000' },
        bucket: { type: 'string', default: 'photos' },
        'target-bucket': { type: 'string' },
        'source-prefix': { type: 'string', default: 'uploads/' },
        event: { type: 'string', default: 'oss' },
        'no-pipeline': { type: 'boolean', default: false },
        anonymous: { type: 'boolean', default: false },
        region: { type: 'string', default: 'cn-hangzhou' },
        'http-port': { type: 'string' },
        'no-http': { type: 'boolean', default: false },
        negotiate: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`imgpipe serve: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`imgpipe serve: Expected an integer between 0 and 65535 for --port but received "${values.port}"`);
    return 2;
  }
  const httpPort = values['http-port'] === undefined ? (port === 0 ? 0 : port + 1) : Number(values['http-port']);
  if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) {
    console.error(`imgpipe serve: Expected an integer between 0 and 65535 for --http-port but received "${values['http-port']}"`);
    return 2;
  }
  if (values.event !== 'oss' && values.event !== 'cloudevent') {
    console.error(`imgpipe serve: Expected oss or cloudevent for --event but received "${values.event}"`);
    return 2;
  }
  const source = values.bucket;
  const target = values['target-bucket'] ?? source;
  const env = process.env;
  const credentials =
    env.IMGPIPE_LOCAL_ACCESS_KEY_ID && env.IMGPIPE_LOCAL_ACCESS_KEY_SECRET
      ? [{ accessKeyId: env.IMGPIPE_LOCAL_ACCESS_KEY_ID, accessKeySecret: env.IMGPIPE_LOCAL_ACCESS_KEY_SECRET }]
      : undefined;

  let upload: UploadHandler | undefined;
  let endpoint = '';
  try {
    // Built before the server so a configuration that would loop is refused before anything listens.
    const build = () =>
      createUploadHandler({ sourceBucket: source, targetBucket: target, sourcePrefix: values['source-prefix'], env: { IMGPIPE_OSS_ENDPOINT: endpoint } });
    if (!values['no-pipeline']) build();
    const server = await startLocalOss({
      root: resolve(values.root),
      host: values.host,
      port,
      region: values.region,
      buckets: [...new Set([source, target])],
      credentials,
      allowAnonymous: values.anonymous,
      notify: values['no-pipeline'] ? undefined : { handler: (event, context) => upload!.handler(event, context), buckets: [source], format: values.event },
      // The same handler on FC's async invocation API, for `imgpipe backfill run --invoke fc:imgpipe-upload`.
      functions: values['no-pipeline'] ? undefined : { 'imgpipe-upload': (event, context) => upload!.handler(event, context) },
    });
    endpoint = server.endpoint;
    if (!values['no-pipeline']) {
      upload = build();
      await upload.initialize();
    }
    const http = values['no-http'] ? undefined : await startHttp(server, [...new Set([source, target])], values.host, httpPort, values.negotiate);
    const c = server.credentials[0];
    console.log(
      [
        `imgpipe local OSS listening on ${server.endpoint} (root ${resolve(values.root)})`,
        `  buckets: ${[...new Set([source, target])].join(', ')}`,
        values['no-pipeline'] ? '  pipeline: off' : `  pipeline: ${source}/${values['source-prefix']}* -> variants and meta/{name}.json in ${target} (${values.event} events)`,
        ...(values['no-pipeline'] ? [] : [`  FC async invocations: --fc-endpoint ${server.fcEndpoint} --invoke fc:imgpipe-upload (the same handler)`]),
        `  accessKeyId: ${c.accessKeyId}`,
        `  accessKeySecret: ${credentials ? '(from IMGPIPE_LOCAL_ACCESS_KEY_SECRET)' : c.accessKeySecret}`,
        `  ali-oss: new OSS({ endpoint: '${server.endpoint}', region: 'oss-${values.region}', bucket: '${source}', accessKeyId, accessKeySecret })`,
        ...(http
          ? [
              `  preview page: ${http.url}/preview/${http.bundleBuilt ? '' : ' (needs the browser bundle: run npm run build first)'}`,
              `  x-oss-process: ${http.url}/${source}/<key>?x-oss-process=image/resize,w_300/format,webp`,
            ]
          : []),
      ].join('\n'),
    );
    await new Promise<void>((resolveSignal) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolveSignal();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await http?.close();
    await server.close();
    return 0;
  } catch (e) {
    console.error(`imgpipe serve: ${(e as Error).message}`);
    return 1;
  }
}

/** The package folder: the nearest one up from this module (adapters/cli/ in the sources, dist/ when built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json', '.wasm': 'application/wasm',
});

/**
 * The preview's files by URL path: the page and its scripts, and the browser bundle with its WASM,
 * at the paths the page's worker imports them from (`../../dist/web.standalone.js` and the HEIC
 * plug-in's `../../dist/heic.standalone.js` and the AVIF one's from /preview/).
 * Names are matched, never joined from the URL as given, so no path leaves these folders.
 */
function previewFile(root: string, path: string): string | undefined {
  if (path === '/preview/') return join(root, 'examples/preview/index.html');
  const m = /^\/(preview|dist|dist\/wasm|dist\/wasm\/plugins)\/([\w-]+(?:\.[\w-]+)*)$/.exec(path);
  if (!m) return undefined;
  const [, folder, name] = m;
  if (folder === 'preview') return join(root, 'examples/preview', name);
  if (folder === 'dist') return /^(web|heic|avif)\.standalone\./.test(name) ? join(root, 'dist', name) : undefined;
  return join(root, folder, name);
}

/** Recently read sources kept per bucket: the sizes of a srcset cost one read of their photo (source.ts). */
const SOURCE_CACHE_BYTES = 64 * 1024 * 1024;

/** The preview page and x-oss-process over HTTP (path-style buckets) on one port. */
async function startHttp(oss: LocalOss, buckets: readonly string[], host: string, port: number, negotiate: boolean): Promise<{ url: string; bundleBuilt: boolean; close(): Promise<void> }> {
  const root = packageRoot();
  const sources: Record<string, ImageSource> = Object.fromEntries(buckets.map((b) => [b, storageSource(oss.storage(b), { cacheBytes: SOURCE_CACHE_BYTES })]));
  const processing = createNodeListener({ buckets: sources, bucketFrom: 'path', negotiate });
  const serveFile = async (req: IncomingMessage, res: ServerResponse, file: string): Promise<void> => {
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found: ${req.url ?? ''}\n`);
    }
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/' || path === '/preview') {
      res.writeHead(302, { location: '/preview/' }).end();
      return;
    }
    // Browsers ask for it on their own; it is not a bucket, so not an AccessDenied either.
    if (path === '/favicon.ico') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('No favicon\n');
      return;
    }
    const file = previewFile(root, path);
    if (file && (req.method === 'GET' || req.method === 'HEAD')) void serveFile(req, res, file);
    else processing(req, res);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    bundleBuilt: existsSync(join(root, 'dist/web.standalone.js')),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
