import { describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import '../../entries/node.js';
import { transform } from '../../src/process/transform.js';
import { parseProcess } from '../../src/process/parse.js';
import { encodeBase64Url } from '../../src/process/params.js';
import { transformCommand } from '../../adapters/cli/transform.js';
import { image } from '../helpers/fixtures.js';
import { rejection } from '../helpers/errors.js';

const b64 = encodeBase64Url;
const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;

describe('blindwatermark and deblindwatermark in x-oss-process', () => {
  it("parses OSS's parameters with IMM's defaults (s low, q 90, t text)", () => {
    expect(parseProcess(`image/blindwatermark,content_${b64('hi')}`)).toEqual([{ action: 'blindwatermark', params: { content: 'hi', s: 'low', q: 90 } }]);
    expect(parseProcess('image/deblindwatermark,s_high,t_text')).toEqual([{ action: 'deblindwatermark', params: { s: 'high', t: 'text' } }]);
  });

  it('refuses a bad strength, a quality outside 70..100 and a missing content, naming the range', async () => {
    const e1 = await rejection(Promise.resolve().then(() => parseProcess(`image/blindwatermark,content_${b64('hi')},s_max`)));
    expect(e1.code).toBe('INVALID_ARGUMENT');
    expect(e1.message).toContain('blindwatermark.s');
    const e2 = await rejection(Promise.resolve().then(() => parseProcess(`image/blindwatermark,content_${b64('hi')},q_69`)));
    expect(e2.message).toContain('between 70 and 100 for blindwatermark.q');
    expect((await rejection(Promise.resolve().then(() => parseProcess('image/blindwatermark,s_low')))).code).toBe('MISSING_ARGUMENT');
  });

  it('embeds, writes the JPEG at q, and reads the content back as JSON', async () => {
    const marked = await transform(image('flowers.jpeg'), `image/resize,w_800/blindwatermark,content_${b64('uid:4711')},s_medium,q_80`);
    expect([marked.format, marked.width]).toEqual(['jpeg', 800]);
    const answer = await transform(marked.bytes, 'image/deblindwatermark,s_medium,t_text');
    expect(answer.contentType).toBe('application/json');
    expect(json(answer.bytes)).toMatchObject({ found: true, content: 'uid:4711' });
    expect(json((await transform(marked.bytes, 'image/deblindwatermark', { blindWatermark: { key: 'other' } })).bytes)).toEqual({ found: false });
    expect(json((await transform(image('flowers.jpeg'), 'image/resize,w_600/deblindwatermark')).bytes)).toEqual({ found: false });
  });

  it('refuses content over the capacity without a registry, and registers an ID with one', async () => {
    const long = 'uploaded by user 8812 from the Hangzhou office';
    const e = await rejection(transform(image('flowers.jpeg'), `image/blindwatermark,content_${b64(long)}`));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('at most 8 bytes');
    const registry = new Map<string, string>();
    const blindWatermark = { register: (id: string, content: string) => { registry.set(id, content); }, resolve: (id: string) => registry.get(id) };
    const marked = await transform(image('flowers.jpeg'), `image/resize,w_700/blindwatermark,content_${b64(long)},s_medium`, { blindWatermark });
    expect(registry.size).toBe(1);
    expect(json((await transform(marked.bytes, 'image/deblindwatermark', { blindWatermark })).bytes)).toMatchObject({ found: true, content: long, id: [...registry.keys()][0] });
  });

  it('imgpipe transform leaked.jpg image/deblindwatermark prints the JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imgpipe-blind-'));
    try {
      const leaked = join(dir, 'leaked.jpg');
      const marked = await transform(image('flowers.jpeg'), `image/resize,w_640/blindwatermark,content_${b64('Zoë')},s_medium`);
      // the leak went through someone else's tools: rescaled and recompressed
      await writeFile(leaked, await sharp(marked.bytes).resize({ width: 560 }).jpeg({ quality: 75 }).toBuffer());
      const out: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out.push(String(chunk)); return true; });
      const code = await transformCommand([leaked, 'image/deblindwatermark']);
      spy.mockRestore();
      expect(code).toBe(0);
      expect(JSON.parse(out.join(''))).toMatchObject({ found: true, content: 'Zoë' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
