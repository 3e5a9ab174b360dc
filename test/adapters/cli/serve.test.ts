import OSS from 'ali-oss';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const PROJECT = join(__dirname, '../../..');
const FIXTURES = join(PROJECT, 'test/fixtures');

/** Run `serveCommand(args)` in its own Node process (through tsx), as the CLI would. */
function serve(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const script = `import('./adapters/cli/serve.ts').then((m) => m.serveCommand(${JSON.stringify(args)})).then((code) => process.exit(code));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** Poll (bounded) until `check` holds. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('imgpipe serve', () => {
  it('serves a folder as OSS and turns an upload into variants and a manifest', async () => {
    const root = await mkdtemp(join(tmpdir(), 'imgpipe-serve-'));
    dirs.push(root);
    const creds = { accessKeyId: 'LTAIservetest0001', accessKeySecret: 'serve-secret' };
    const run = serve(['--root', root, '--port', '0', '--bucket', 'photos', '--source-prefix', 'uploads/', '--anonymous'], {
      IMGPIPE_LOCAL_ACCESS_KEY_ID: creds.accessKeyId,
      IMGPIPE_LOCAL_ACCESS_KEY_SECRET: creds.accessKeySecret,
    });
    try {
      await waitFor(() => /listening on (http:\/\/\S+)/.test(run.output()), 'the server to start');
      const endpoint = /listening on (http:\/\/\S+)/.exec(run.output())![1];
      expect(run.output()).not.toContain(creds.accessKeySecret);
      const oss = new OSS({ ...creds, endpoint, region: 'oss-cn-hangzhou', bucket: 'photos' });
      await oss.put('uploads/holiday photo.jpg', await readFile(join(FIXTURES, 'images/320x240.jpg')));
      const manifest = 'meta/uploads/holiday photo.json';
      await waitFor(async () => (await oss.head(manifest).then(() => true, () => false)), 'the manifest');
      const listed = await oss.listV2({ prefix: '', 'max-keys': 100 } as OSS.ListV2ObjectsQuery, {});
      expect(listed.objects.map((o) => o.name).sort()).toEqual([
        'meta/uploads/holiday photo.json',
        'resized/large/uploads/holiday photo.jpg',
        'resized/medium/uploads/holiday photo.jpg',
        'resized/thumb/uploads/holiday photo.jpg',
        'uploads/holiday photo.jpg',
        'webp/large/uploads/holiday photo.webp',
        'webp/medium/uploads/holiday photo.webp',
        'webp/thumb/uploads/holiday photo.webp',
      ]);
      // With --anonymous, a plain unsigned PUT (what `curl -T` sends) is accepted too; a wrong signature still is not.
      const curlLike = await fetch(`${endpoint}/photos/plain.txt`, { method: 'PUT', body: 'hi' });
      expect(curlLike.status).toBe(200);
      expect(await (await fetch(`${endpoint}/photos/plain.txt`)).text()).toBe('hi');
      const forged = await fetch(`${endpoint}/photos/plain.txt`, { headers: { authorization: `OSS ${creds.accessKeyId}:AAAA`, date: new Date().toUTCString() } });
      expect(forged.status).toBe(403);
      // The variants are plain files under the root, for a developer to open.
      expect((await readFile(join(root, 'photos/resized/thumb/uploads/holiday photo.jpg'))).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      // Structured logs from the handler on stdout.
      expect(run.output()).toMatch(/\{"time":"[^"]+","requestId":"[^"]+","eventId":"[^"]+","bucket":"photos","key":"uploads\/holiday photo.jpg",.*"msg":"processed"/);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
  });

  it('refuses bad options with usage and exit code 2', async () => {
    const run = serve(['--port', 'abc']);
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('Expected an integer between 0 and 65535 for --port but received "abc"');
    const unknown = serve(['--frobnicate']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.output()).toContain('Usage: imgpipe serve');
  });

  it('refuses a configuration that would re-trigger itself, before listening', async () => {
    const run = serve(['--port', '0', '--source-prefix', '', '--root', join(tmpdir(), 'imgpipe-never')]);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('Refusing a configuration that would re-trigger itself');
    expect(run.output()).not.toContain('listening');
  });
});
