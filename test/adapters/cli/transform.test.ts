import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { transformCommand } from '../../../adapters/cli/transform.js';

const input = fileURLToPath(new URL('../../fixtures/images/320x240.jpg', import.meta.url));
let dir: string;
let stderr: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imgpipe-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function captureStderr() {
  stderr = [];
  return vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr.push(String(chunk)); return true; });
}

describe('imgpipe transform', () => {
  it('writes the processed image', async () => {
    const spy = captureStderr();
    const out = join(dir, 'sub', 'out.webp');
    const code = await transformCommand([input, 'image/resize,w_100/format,webp', '-o', out]);
    spy.mockRestore();
    expect(code).toBe(0);
    const meta = await sharp(await readFile(out)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 100, 75]);
    expect(stderr.join('')).toBe(`${out}: webp 100x75, ${(await stat(out)).size} bytes\n`);
  });

  it("picks the output format from -o's extension when the string names none; a format action wins", async () => {
    const spy = captureStderr();
    const cases: [string, string, string][] = [
      ['image/resize,w_100', 'small.webp', 'webp'],
      ['image/resize,w_100/', 'small.PNG', 'png'],
      ['image/resize,w_100/format,png', 'named.jpg', 'png'],
      ['image/resize,w_100', 'small.bin', 'jpeg'],
    ];
    try {
      for (const [processString, name, format] of cases) {
        expect(await transformCommand([input, processString, '-o', join(dir, name)]), name).toBe(0);
        expect((await sharp(await readFile(join(dir, name))).metadata()).format, name).toBe(format);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('writes JSON for info', async () => {
    const spy = captureStderr();
    const out = join(dir, 'info.json');
    expect(await transformCommand([input, 'image/info', '-o', out])).toBe(0);
    spy.mockRestore();
    expect(JSON.parse(await readFile(out, 'utf8')).ImageWidth).toEqual({ value: '320' });
  });

  it.each([
    [['image/resize,w_0'], 1, 'imgpipe: INVALID_ARGUMENT (InvalidArgument): Expected an integer between 1 and 16384 for resize.w but received "0"\n'],
    [['image/flip,h'], 1, 'imgpipe: INVALID_ARGUMENT (NotImplemented): Expected an OSS action but received "flip", an imgpipe extension that is off (enable extensions to use it)\n'],
  ])('refuses %j with exit %i', async (args, exit, message) => {
    const spy = captureStderr();
    const code = await transformCommand([input, ...args, '-o', join(dir, 'x.jpg')]);
    spy.mockRestore();
    expect(code).toBe(exit);
    expect(stderr.join('')).toBe(message);
  });

  it('accepts extensions when asked', async () => {
    const spy = captureStderr();
    const code = await transformCommand([input, 'image/flip,h', '-o', join(dir, 'flip.jpg'), '--extensions']);
    spy.mockRestore();
    expect(code).toBe(0);
  });

  it.each([
    [[input, 'image/resize,w_10'], 'imgpipe transform: expected -o <output>'],
    [[input, '-o', 'x'], 'imgpipe transform: expected an input file and a process string but received 1 argument(s)'],
    [[input, 'image/info', '-o'], 'imgpipe transform: -o needs a value'],
    [[input, 'image/info', '--bogus', '-o', 'x'], 'imgpipe transform: unknown option --bogus'],
  ])('usage error for %j', async (args, first) => {
    const spy = captureStderr();
    expect(await transformCommand(args)).toBe(2);
    spy.mockRestore();
    expect(stderr.join('').split('\n')[0]).toBe(first);
  });

  it('reports a missing input', async () => {
    const spy = captureStderr();
    expect(await transformCommand([join(dir, 'none.jpg'), 'image/info', '-o', join(dir, 'y')])).toBe(1);
    spy.mockRestore();
    expect(stderr.join('')).toBe(`imgpipe: cannot read ${join(dir, 'none.jpg')}: no such file\n`);
  });
});
