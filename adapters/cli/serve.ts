/**
 * `imgpipe serve`: the whole pipeline on a laptop. Starts the local OSS-compatible server on a
 * folder, and wires its object-created events to the same upload handler Function Compute runs, so
 * an upload with ali-oss, ossutil-style tools or curl turns into variants and a manifest on disk.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createUploadHandler, type UploadHandler } from '../fc/handler.js';
import { startLocalOss } from '../local-oss/server.js';

const USAGE = `Usage: imgpipe serve [options]

Runs a local OSS-compatible server and processes uploads into variants.

Options:
  --root <dir>             folder the buckets live in (default ./.imgpipe-oss)
  --host <addr>            address to listen on (default 127.0.0.1)
  --port <n>               port (default 9000; 0 picks a free one)
  --bucket <name>          source bucket (default photos)
  --target-bucket <name>   bucket for variants and manifests (default: the source bucket)
  --source-prefix <p>      only keys under this prefix are processed (default uploads/)
  --event <oss|cloudevent> event shape delivered to the handler (default oss)
  --no-pipeline            serve objects only; do not process uploads
  --anonymous              also accept unsigned requests (e.g. curl -T photo.jpg <endpoint>/photos/uploads/)
  --region <id>            region reported in events (default cn-hangzhou)
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
    });
    endpoint = server.endpoint;
    if (!values['no-pipeline']) {
      upload = build();
      await upload.initialize();
    }
    const c = server.credentials[0];
    console.log(
      [
        `imgpipe local OSS listening on ${server.endpoint} (root ${resolve(values.root)})`,
        `  buckets: ${[...new Set([source, target])].join(', ')}`,
        values['no-pipeline'] ? '  pipeline: off' : `  pipeline: ${source}/${values['source-prefix']}* -> variants and meta/{name}.json in ${target} (${values.event} events)`,
        `  accessKeyId: ${c.accessKeyId}`,
        `  accessKeySecret: ${credentials ? '(from IMGPIPE_LOCAL_ACCESS_KEY_SECRET)' : c.accessKeySecret}`,
        `  ali-oss: new OSS({ endpoint: '${server.endpoint}', region: 'oss-${values.region}', bucket: '${source}', accessKeyId, accessKeySecret })`,
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
    await server.close();
    return 0;
  } catch (e) {
    console.error(`imgpipe serve: ${(e as Error).message}`);
    return 1;
  }
}
