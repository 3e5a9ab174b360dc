/**
 * Output bytes are a contract: a restructuring must not change a single byte. Every fixture goes
 * through the upload recipe (watermarked, JPEG + WebP, plus a PNG/progressive recipe), plain
 * decode, and a list of x-oss-process strings covering every action; the SHA-256 of each output
 * (and the code and message of each refusal) is compared with `test/fixtures/digests.json`,
 * recorded before the change. Re-record deliberately with `IMGPIPE_RECORD_DIGESTS=1`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RECIPE, decode, encode, encodeBase64Url, isImgpipeError, runRecipe, transform, type Recipe,
} from '../../entries/node.js';
import '../../entries/heic/node.js';
import { FIXTURES, fixture, image, listImages } from '../helpers/fixtures.js';

const FILE = `${FIXTURES}digests.json`;
const RECORD = process.env.IMGPIPE_RECORD_DIGESTS === '1';
const recorded: Record<string, string> = existsSync(FILE) ? JSON.parse(readFileSync(FILE, 'utf8')) : {};
const seen: Record<string, string> = {};

const sha = (b: Uint8Array | Uint8ClampedArray) => createHash('sha256').update(b).digest('hex');

function check(key: string, value: string): void {
  seen[key] = value;
  if (RECORD) return;
  expect(recorded[key], `no digest recorded for ${key}`).toBeDefined();
  expect(value, key).toBe(recorded[key]);
}

/** The outcome of a promise as one string: the output's digest, or the refusal's code and message. */
async function outcome(p: Promise<{ bytes: Uint8Array; contentType: string; width: number; height: number }>): Promise<string> {
  try {
    const r = await p;
    return `${r.contentType} ${r.width}x${r.height} ${sha(r.bytes)}`;
  } catch (e) {
    if (!isImgpipeError(e)) throw e;
    return `${e.code}: ${e.message}`;
  }
}

const PNG_RECIPE: Recipe = {
  sizes: [{ name: 'small', width: 320, watermark: true }, { name: 'tiny', width: 64, watermark: false }],
  outputs: [
    { format: 'png', quality: 100, key: 'png/{size}/{name}.{ext}' },
    { format: 'jpeg', quality: 70, progressive: true, key: 'p/{size}/{name}.{ext}' },
    { format: 'webp', quality: 90, lossless: true, key: 'l/{size}/{name}.{ext}' },
  ],
  watermark: { text: 'imgpipe ✓', color: '3366CC', opacity: 80, gravity: 'center', rotate: 30, fill: true, padx: 8, pady: 8 },
  fastShrinkOnLoad: false,
};

const text = encodeBase64Url('Hello 世界');
const logo = encodeBase64Url('logo.png?x-oss-process=image/resize,P_20/rotate,90');
/** Every action at least once, with the grammar's refusals alongside. */
const PROCESS = [
  'image/resize,w_300', 'image/resize,m_fill,w_120,h_120', 'image/resize,m_pad,w_200,h_90,color_FF0000',
  'image/resize,m_mfit,l_150,limit_0', 'image/resize,p_50/format,png', 'image/resize,m_fixed,w_64,h_32/quality,q_60',
  'image/crop,w_100,h_80,g_center', 'image/crop,x_10,y_10,g_se', 'image/indexcrop,x_50,i_1', 'image/indexcrop,y_40,i_99',
  'image/circle,r_60', 'image/rounded-corners,r_30/format,webp', 'image/rotate,90', 'image/rotate,45/format,png',
  'image/auto-orient,0', 'image/auto-orient,1/resize,w_100', 'image/blur,r_5', 'image/blur,s_3', 'image/blur,r_10,s_2',
  'image/bright,40', 'image/contrast,-30', 'image/sharpen,150', 'image/format,jpg/interlace,1', 'image/format,gif',
  'image/quality,Q_50/format,webp', 'image/quality,q_90', 'image/info', 'image/resize,w_50/info', 'image/average-hue',
  `image/watermark,text_${text},g_nw,size_30,color_00FF00,t_70,shadow_50`, `image/watermark,text_${text},fill_1,rotate_20,padx_10,pady_5`,
  `image/watermark,image_${logo},g_center,t_50`, `image/watermark,image_${encodeBase64Url('logo.png')},text_${text},order_1,align_1,interval_5,voffset_-5,g_west`,
  // refusals
  'image/resize', 'image/resize,w_0', 'image/resize,w_16385', 'image/blur,r_51', 'image/sharpen,5', 'image/sharpen,400',
  'image/bright,101', 'image/rotate,361', 'image/circle,r_0', 'image/format,bmp', 'image/format,heic', 'image/format,xyz',
  'image/crop,g_middle', 'image/crop,x_100000', 'image/watermark,t_50', 'image/watermark,text_@@', 'image/watermark,text_' + text + ',color_red',
  'image/info/resize,w_10', 'image/nope', 'image/flip,h', 'image/quality,q_0', 'image/interlace,2', 'image/indexcrop,x_5000',
];
const PROCESS_SOURCES = ['Landscape_6.jpg', 'with-alpha.png', '5_webp_a.webp', 'animated-loop-3.gif', 'grey-1-component.jpg'];

describe('outputs are byte-identical to the recorded digests', () => {
  afterAll(() => {
    if (RECORD) writeFileSync(FILE, JSON.stringify(Object.fromEntries(Object.entries(seen).sort()), null, 1) + '\n');
  });

  for (const name of listImages()) {
    it(`recipe and decode: ${name}`, async () => {
      const bytes = image(name);
      for (const [label, recipe] of [['default', DEFAULT_RECIPE], ['png', PNG_RECIPE]] as const) {
        const result = await runRecipe(bytes, { key: `u/${name}`, recipe });
        check(`recipe/${label}/${name}/source`, JSON.stringify(result.source));
        for (const v of result.variants) check(`recipe/${label}/${name}/${v.key}`, `${v.contentType} ${v.width}x${v.height} ${sha(v.bytes)}`);
      }
      const decoded = await decode(bytes);
      check(`decode/${name}`, `${decoded.format} ${decoded.width}x${decoded.height} ${sha(decoded.data)}`);
      const scaled = await decode(bytes, { shrinkTo: { width: 100, height: 100 } });
      check(`decode-shrink/${name}`, `${scaled.width}x${scaled.height} ${scaled.shrink} ${sha(scaled.data)}`);
    });
  }

  for (const name of PROCESS_SOURCES) {
    it(`x-oss-process: ${name}`, async () => {
      const bytes = image(name);
      const loadObject = async () => image('with-alpha.png');
      for (const p of PROCESS) check(`process/${name}/${p}`, await outcome(transform(bytes, p, { loadObject })));
      check(`process/${name}/flip,hv (extensions)`, await outcome(transform(bytes, 'image/flip,hv', { extensions: true })));
    });
  }

  it('encode with each format and option', async () => {
    const decoded = await decode(image('with-alpha.png'));
    for (const [format, options] of [
      ['jpeg', {}], ['jpg', { quality: 40, progressive: true, background: [0, 0, 255] }], ['webp', {}], ['webp', { lossless: true }],
      ['webp', { quality: 5 }], ['png', {}], ['gif', {}], ['jpeg', { quality: 0 }], ['jpeg', { quality: 101 }],
    ] as const) {
      const key = `encode/${format}/${JSON.stringify(options)}`;
      try {
        check(key, sha(await encode(decoded, format, options)));
      } catch (e) {
        if (!isImgpipeError(e)) throw e;
        check(key, `${e.code}: ${e.message}`);
      }
    }
    check('fixture/bad', String(fixture('bad/truncated.jpg').length));
  });
});
