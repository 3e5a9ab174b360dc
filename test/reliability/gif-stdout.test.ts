/**
 * omggif prints "Warning, gif stream longer/shorter than expected." with console.log when a frame's
 * LZW data decodes to more or fewer pixels than the frame holds. imgpipe refuses such frames before
 * omggif sees them, so a decode writes nothing to stdout (which in Function Compute is the log).
 * Checked in a child process, where stdout is the real file descriptor and nothing intercepts it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decode } from '../../entries/node.js';
import { lzw } from '../helpers/gif.js';

/** A 4-pixel-wide black-and-white GIF of `height` rows around the given image data. */
function gif(data: Uint8Array, height: number): Uint8Array {
  const head = [...new TextEncoder().encode('GIF89a'), 4, 0, height, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  const descriptor = [0x2c, 0, 0, 0, 0, 4, 0, height, 0, 0];
  return new Uint8Array([...head, ...descriptor, ...data, 0x3b]);
}

// clear, 0, 1, "0 1", "1 0", 0, 1, end: 8 pixels.
const EIGHT_PIXELS = lzw(2, [[4, 3], [0, 3], [1, 3], [6, 3], [7, 4], [0, 4], [1, 4], [5, 4]]);
const CASES = {
  exact: gif(EIGHT_PIXELS, 2),
  short: gif(EIGHT_PIXELS, 4),
  long: gif(EIGHT_PIXELS, 1),
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Run `body` (an ES module body with `cases` in scope) in a fresh Node process; return its stdout and stderr. */
function child(body: string): { stdout: string; stderr: string } {
  const cases = Object.fromEntries(Object.entries(CASES).map(([k, v]) => [k, Array.from(v)]));
  const script = `const cases = Object.fromEntries(Object.entries(${JSON.stringify(cases)}).map(([k, v]) => [k, new Uint8Array(v)]));\n${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('GIF frames whose data decodes to the wrong number of pixels', () => {
  it('are refused as CORRUPT_IMAGE, naming the expected and received pixel counts', async () => {
    await expect(decode(CASES.short)).rejects.toMatchObject({
      code: 'CORRUPT_IMAGE',
      message: "Expected the GIF frame's LZW data to decode to 16 pixels but it decodes to 8",
    });
    await expect(decode(CASES.long)).rejects.toMatchObject({
      code: 'CORRUPT_IMAGE',
      message: "Expected the GIF frame's LZW data to decode to 4 pixels but it decodes to more (at least 6)",
    });
    const img = await decode(CASES.exact);
    expect([img.width, img.height]).toEqual([4, 2]);
  });

  it('omggif alone prints its warning on stdout for these files (the path the check avoids)', () => {
    const { stdout } = child(`
      import { GifReader } from 'omggif';
      for (const name of ['short', 'long']) {
        const r = new GifReader(cases[name]);
        r.decodeAndBlitFrameRGBA(0, new Uint8Array(r.width * r.height * 4));
      }
    `);
    expect(stdout).toBe('Warning, gif stream shorter than expected.\nWarning, gif stream longer than expected.\n');
  });

  it('imgpipe decoding them writes nothing to stdout', () => {
    const { stdout, stderr } = child(`
      import { decode } from './entries/node.ts';
      const out = [];
      for (const name of ['short', 'long', 'exact']) {
        out.push(await decode(cases[name]).then((i) => 'ok ' + i.width + 'x' + i.height, (e) => e.code));
      }
      process.stderr.write(JSON.stringify(out));
    `);
    expect(JSON.parse(stderr.slice(stderr.indexOf('[')))).toEqual(['CORRUPT_IMAGE', 'CORRUPT_IMAGE', 'ok 4x2']);
    expect(stdout).toBe('');
  });
});
