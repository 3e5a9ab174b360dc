import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, copyFileSync, writeFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { IMAGES, BAD } from '../../helpers/fixtures.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', join(__dirname, '../../../adapters/cli/main.ts')];

async function imgpipe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd: join(__dirname, '../../..') });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('imgpipe CLI', () => {
  it('runs the recipe on a folder with a bad file among good ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgpipe-cli-'));
    const input = join(dir, 'in');
    mkdirSync(join(input, 'sub'), { recursive: true });
    copyFileSync(join(IMAGES, '320x240.jpg'), join(input, 'a.jpg'));
    copyFileSync(join(IMAGES, 'with-alpha.png'), join(input, 'sub', 'b.png'));
    copyFileSync(join(BAD, 'truncated.jpg'), join(input, 'broken.jpg'));
    writeFileSync(join(input, 'notes.txt'), 'not an image');
    const out = join(dir, 'out');

    const res = await imgpipe([input, '--out', out, '--json']);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as {
      summary: { processed: number; failed: number; ms: number };
      results: { key: string; ok: boolean; ms: number; error?: { code: string; message: string }; variants?: { key: string }[]; placeholder?: { thumbhash: string; dominantColor: string } }[];
    };
    expect(report.summary).toEqual({ processed: 2, failed: 2, ms: report.results.reduce((sum, r) => sum + r.ms, 0) });
    for (const r of report.results) expect(Number.isInteger(r.ms), r.key).toBe(true);
    const byKey = Object.fromEntries(report.results.map((r) => [r.key, r]));
    expect(byKey['a.jpg'].placeholder).toEqual({ thumbhash: expect.stringMatching(/^[A-Za-z0-9+/]{20,40}={0,2}$/), dominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/) });
    expect(byKey['broken.jpg'].placeholder).toBeUndefined();
    expect(Object.keys(byKey).sort()).toEqual(['a.jpg', 'broken.jpg', 'notes.txt', 'sub/b.png']);
    expect(byKey['broken.jpg'].error).toEqual({
      code: 'CORRUPT_IMAGE',
      message: 'Expected a complete JPEG but the file is truncated: no end-of-image marker after the image data (10000 bytes received)',
    });
    expect(byKey['notes.txt'].error?.code).toBe('UNSUPPORTED_FORMAT');
    expect(byKey['sub/b.png'].variants?.map((v) => v.key)).toContain('webp/thumb/sub/b.webp');
    for (const key of ['resized/large/a.jpg', 'webp/large/a.webp', 'resized/thumb/a.jpg', 'resized/medium/sub/b.jpg', 'webp/thumb/sub/b.webp']) {
      expect(existsSync(join(out, key)), key).toBe(true);
    }
    expect((await sharp(join(out, 'resized/thumb/a.jpg')).metadata()).width).toBe(150);
  });

  it('prints a summary table and exits 0 when everything succeeds', async () => {
    const out = mkdtempSync(join(tmpdir(), 'imgpipe-cli-'));
    const res = await imgpipe([join(IMAGES, '320x240.jpg'), '--out', out]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^source\s+variant\s+format\s+size\s+bytes\s+ms$/m);
    expect(res.stdout).toMatch(/resized\/thumb\/320x240\.jpg\s+jpeg\s+150x112/);
    expect(res.stdout).toContain(`1 of 1 processed into ${out}/`);
  });

  it('explains usage errors with exit status 2', async () => {
    const res = await imgpipe(['--frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('imgpipe: unknown option --frobnicate');
    const threads = await imgpipe([join(IMAGES, '320x240.jpg'), '--threads', '0']);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toContain('imgpipe: --threads expects an integer between 1 and 256 but received "0"');
  });

  it('decodes HEIC and writes AVIF without being asked: the CLI loads both plug-ins', async () => {
    const out = mkdtempSync(join(tmpdir(), 'imgpipe-cli-'));
    const res = await imgpipe([join(IMAGES, 'heic-alpha.heic'), '--out', out, '--json']);
    expect(res.code).toBe(0);
    const [result] = (JSON.parse(res.stdout) as { results: { ok: boolean; variants: { key: string; width: number; height: number }[] }[] }).results;
    expect(result.variants.map((v) => [v.key, v.width, v.height])).toEqual([
      ['resized/large/heic-alpha.jpg', 120, 90], ['webp/large/heic-alpha.webp', 120, 90],
      ['resized/medium/heic-alpha.jpg', 120, 90], ['webp/medium/heic-alpha.webp', 120, 90],
      ['resized/thumb/heic-alpha.jpg', 120, 90], ['webp/thumb/heic-alpha.webp', 120, 90],
    ]);
    const avif = join(out, 'small.avif');
    expect((await imgpipe(['transform', join(IMAGES, 'heic-alpha.heic'), 'image/resize,w_60/format,avif', '-o', avif])).code).toBe(0);
    expect(await sharp(avif).metadata()).toMatchObject({ format: 'heif', compression: 'av1', width: 60, height: 45 });
  });

  it('writes the same files with encodes on worker threads as in one thread', async () => {
    const [pooled, inline] = [mkdtempSync(join(tmpdir(), 'imgpipe-cli-')), mkdtempSync(join(tmpdir(), 'imgpipe-cli-'))];
    expect((await imgpipe([join(IMAGES, 'concert.jpg'), '--out', pooled, '--threads', '2'])).code).toBe(0);
    expect((await imgpipe([join(IMAGES, 'concert.jpg'), '--out', inline, '--threads', '1'])).code).toBe(0);
    for (const key of ['resized/large/concert.jpg', 'webp/medium/concert.webp', 'resized/thumb/concert.jpg']) {
      expect(readFileSync(join(pooled, key)).equals(readFileSync(join(inline, key))), key).toBe(true);
    }
  });
});
