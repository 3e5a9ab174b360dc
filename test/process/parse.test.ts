import { describe, expect, it } from 'vitest';
import { ACTIONS, ACTION_NAMES } from '../../src/process/actions.js';
import { parseProcess } from '../../src/process/parse.js';
import { decodeBase64Url, encodeBase64Url } from '../../src/process/params.js';
import { createStyleTable, splitStyleDelimiter } from '../../src/process/styles.js';
import { ImgpipeError, describeValue } from '../../src/errors.js';

function refusal(fn: () => unknown): ImgpipeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImgpipeError);
    return e as ImgpipeError;
  }
  throw new Error('expected a refusal');
}

describe('parseProcess: accepted strings, one row per action and parameter', () => {
  const rows: [string, unknown][] = [
    ['image/resize,w_300', [{ action: 'resize', params: { m: 'lfit', w: 300, limit: true, color: [255, 255, 255] } }]],
    ['image/resize,m_fixed,h_80,w_150', [{ action: 'resize', params: { m: 'fixed', w: 150, h: 80, limit: true, color: [255, 255, 255] } }]],
    ['image/resize,l_100,s_50,limit_0', [{ action: 'resize', params: { m: 'lfit', l: 100, s: 50, limit: false, color: [255, 255, 255] } }]],
    ['image/resize,p_50', [{ action: 'resize', params: { m: 'lfit', p: 50, limit: true, color: [255, 255, 255] } }]],
    ['image/resize,m_pad,w_10,h_10,color_FF0000', [{ action: 'resize', params: { m: 'pad', w: 10, h: 10, limit: true, color: [255, 0, 0] } }]],
    ['image/crop,w_200,h_200,g_se', [{ action: 'crop', params: { w: 200, h: 200, x: 0, y: 0, g: 'se' } }]],
    ['image/crop,x_10,y_20', [{ action: 'crop', params: { x: 10, y: 20, g: 'nw' } }]],
    ['image/indexcrop,x_100,i_2', [{ action: 'indexcrop', params: { x: 100, i: 2 } }]],
    ['image/indexcrop,y_50', [{ action: 'indexcrop', params: { y: 50, i: 0 } }]],
    ['image/circle,r_100', [{ action: 'circle', params: { r: 100 } }]],
    ['image/rounded-corners,r_30', [{ action: 'rounded-corners', params: { r: 30 } }]],
    ['image/rotate,90', [{ action: 'rotate', params: { value: 90 } }]],
    ['image/rotate', [{ action: 'rotate', params: { value: 0 } }]],
    ['image/auto-orient,1', [{ action: 'auto-orient', params: { value: true } }]],
    ['image/auto-orient,0', [{ action: 'auto-orient', params: { value: false } }]],
    ['image/blur,r_3,s_2', [{ action: 'blur', params: { r: 3, s: 2 } }]],
    ['image/bright,-50', [{ action: 'bright', params: { value: -50 } }]],
    ['image/contrast,100', [{ action: 'contrast', params: { value: 100 } }]],
    ['image/sharpen,100', [{ action: 'sharpen', params: { value: 100 } }]],
    ['image/format,webp', [{ action: 'format', params: { value: 'webp' } }]],
    ['image/quality,q_90', [{ action: 'quality', params: { q: 90 } }]],
    ['image/quality,Q_80,q_50', [{ action: 'quality', params: { q: 50, Q: 80 } }]],
    ['image/interlace,1', [{ action: 'interlace', params: { value: true } }]],
    ['image/info', [{ action: 'info', params: {} }]],
    ['image/average-hue', [{ action: 'average-hue', params: {} }]],
    ['image/watermark,text_SGVsbG8gV29ybGQ', [{
      action: 'watermark',
      params: { t: 100, g: 'se', x: 10, y: 10, voffset: 0, fill: false, padx: 0, pady: 0, text: 'Hello World', type: 'wqy-zenhei', color: [0, 0, 0], size: 40, shadow: 0, rotate: 0, order: 0, align: 2, interval: 0 },
    }]],
    ['image/resize,w_200/rotate,90/', [
      { action: 'resize', params: { m: 'lfit', w: 200, limit: true, color: [255, 255, 255] } },
      { action: 'rotate', params: { value: 90 } },
    ]],
  ];
  it.each(rows)('%s', (input, expected) => {
    const ops = parseProcess(input);
    expect(ops).toEqual(expected);
    expect(Object.isFrozen(ops)).toBe(true);
    expect(Object.isFrozen(ops[0])).toBe(true);
    expect(Object.isFrozen(ops[0].params)).toBe(true);
  });

  it('keeps chaining order left to right', () => {
    expect(parseProcess('image/rotate,90/resize,w_10/format,png').map((o) => o.action)).toEqual(['rotate', 'resize', 'format']);
  });

  it('has a spec, doc and range for every parameter of every action', () => {
    for (const name of ACTION_NAMES) {
      for (const [param, def] of Object.entries(ACTIONS[name].params)) {
        expect(def.spec.expected, `${name}.${param}`).toMatch(/\w/);
        expect(def.doc, `${name}.${param}`).toMatch(/\w/);
        if ('default' in def) expect(def.spec.parse(String(def.default)) !== undefined || typeof def.default !== 'number').toBe(true);
      }
    }
  });
});

describe('parseProcess: every documented error, code and message', () => {
  const rows: [string, string, string, string, string | undefined][] = [
    // input, ImgpipeError code, OSS code, message, EC
    ['image/resize,m_big,w_10', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected one of lfit, mfit, fill, pad, fixed for resize.m but received "big"', '0040-00000311'],
    ['image/resize,w_0', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 16384 for resize.w but received "0"', '0040-00000312'],
    ['image/resize,w_16385', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 16384 for resize.w but received "16385"', '0040-00000312'],
    ['image/resize,w_abc', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 16384 for resize.w but received "abc"', '0040-00000312'],
    ['image/resize,w_1e3', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 16384 for resize.w but received "1e3"', '0040-00000312'],
    ['image/resize,s_0', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 16384 for resize.s but received "0"', '0040-00000315'],
    ['image/resize,p_1001', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 1000 for resize.p but received "1001"', '0040-00000317'],
    ['image/resize,w_0,h_0', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 16384 for resize.w but received "0"', '0040-00000312'],
    ['image/resize', 'MISSING_ARGUMENT', 'MissingArgument', 'Expected at least one of resize.w, resize.h, resize.l, resize.s, resize.p but received none', '0040-00000322'],
    ['image/resize,limit_0', 'MISSING_ARGUMENT', 'MissingArgument', 'Expected at least one of resize.w, resize.h, resize.l, resize.s, resize.p but received none', '0040-00000322'],
    ['image/resize,w_10,color_red', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected six hexadecimal digits (RRGGBB, no #) for resize.color but received "red"', undefined],
    ['image/resize,w_10,limit_2', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected 0 or 1 for resize.limit but received "2"', undefined],
    ['image/resize,w_10,zz_1', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected a parameter of resize (m, w, h, l, s, p, limit, color) but received "zz_1"', undefined],
    ['image/resize,w_10,w_20', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected resize.w once but received it twice', undefined],
    ['image/auto-orient,abc', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected 0 or 1 for auto-orient.value but received "abc"', '0040-00000215'],
    ['image/auto-orient,10', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected 0 or 1 for auto-orient.value but received "10"', '0040-00000215'],
    ['image/auto-orient', 'MISSING_ARGUMENT', 'MissingArgument', 'Expected a value for auto-orient.value but received none', '0040-00000215'],
    ['image/crop,g_middle', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected one of nw, north, ne, west, center, east, sw, south, se for crop.g but received "middle"', undefined],
    ['image/indexcrop,i_1', 'MISSING_ARGUMENT', 'MissingArgument', 'Expected at least one of indexcrop.x, indexcrop.y but received none', undefined],
    ['image/circle', 'MISSING_ARGUMENT', 'MissingArgument', 'Expected a value for circle.r but received none', undefined],
    ['image/circle,r_4097', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 4096 for circle.r but received "4097"', undefined],
    ['image/rounded-corners,r_0', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 4096 for rounded-corners.r but received "0"', undefined],
    ['image/rotate,361', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 0 and 360 for rotate.value but received "361"', undefined],
    ['image/rotate,90,180', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected no parameters for rotate but received "180"', undefined],
    ['image/blur', 'MISSING_ARGUMENT', 'MissingArgument', 'Expected at least one of blur.r, blur.s but received none', undefined],
    ['image/blur,r_51,s_2', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 50 for blur.r but received "51"', undefined],
    ['image/bright,101', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between -100 and 100 for bright.value but received "101"', undefined],
    ['image/contrast,-101', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between -100 and 100 for contrast.value but received "-101"', undefined],
    ['image/sharpen,49', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 50 and 399 for sharpen.value but received "49"', undefined],
    ['image/sharpen,400', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 50 and 399 for sharpen.value but received "400"', undefined],
    ['image/format,jpx', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected one of jpg, jpeg, png, webp, bmp, gif, tiff, heic, avif for format.value but received "jpx"', undefined],
    ['image/format,bmp', 'UNSUPPORTED_FORMAT', 'NotImplemented', 'Expected an output format imgpipe can write (jpg, png, webp, avif) for format.value but received "bmp"', undefined],
    ['image/format,tiff', 'UNSUPPORTED_FORMAT', 'NotImplemented', 'Expected an output format imgpipe can write (jpg, png, webp, avif) for format.value but received "tiff"', undefined],
    ['image/format,heic', 'UNSUPPORTED_FORMAT', 'NotImplemented', 'Expected an output format imgpipe can write (jpg, png, webp, avif) for format.value but received "heic"', undefined],
    ['image/quality', 'MISSING_ARGUMENT', 'MissingArgument', 'Expected at least one of quality.q, quality.Q but received none', undefined],
    ['image/quality,q_0', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 100 for quality.q but received "0"', undefined],
    ['image/quality,Q_101', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 100 for quality.Q but received "101"', undefined],
    ['image/interlace,2', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected 0 or 1 for interlace.value but received "2"', undefined],
    ['image/info,x_1', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected no parameters for info but received "x_1"', undefined],
    ['image/info/resize,w_10', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected info to be the last action (it answers JSON) but received "resize,w_10" after it', undefined],
    ['image/average-hue/rotate,90', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected average-hue to be the last action (it answers JSON) but received "rotate,90" after it', undefined],
    ['image/watermark,t_50', 'MISSING_ARGUMENT', 'MissingArgument', 'Expected at least one of watermark.image, watermark.text but received none', undefined],
    ['image/watermark,text_!!', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected URL-safe Base64 of UTF-8 text of at most 64 characters for watermark.text but received "!!"', undefined],
    [`image/watermark,text_${encodeBase64Url('x'.repeat(65))}`, 'INVALID_ARGUMENT', 'InvalidArgument', `Expected URL-safe Base64 of UTF-8 text of at most 64 characters for watermark.text but received ${describeValue(encodeBase64Url('x'.repeat(65)))}`, undefined],
    ['image/watermark,text_SGk,padx_4097', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 0 and 4096 for watermark.padx but received "4097"', '0040-00000276'],
    ['image/watermark,text_SGk,size_0', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 1000 for watermark.size but received "0"', undefined],
    ['image/watermark,text_SGk,t_101', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 0 and 100 for watermark.t but received "101"', undefined],
    ['image/watermark,text_SGk,voffset_1001', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between -1000 and 1000 for watermark.voffset but received "1001"', undefined],
    ['image/watermark,text_SGk,align_3', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected one of 0, 1, 2 for watermark.align but received "3"', undefined],
    ['image/flip,h', 'INVALID_ARGUMENT', 'NotImplemented', 'Expected an OSS action but received "flip", an imgpipe extension that is off (enable extensions to use it)', undefined],
    ['image/mirror,1', 'INVALID_ARGUMENT', 'InvalidArgument', `Expected an action (${ACTION_NAMES.join(', ')}) but received "mirror"`, undefined],
    ['video/snapshot,t_1', 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected a process string starting with "image/" or "style/" but received "video/snapshot,t_1"', undefined],
    ['style/missing', 'NOT_FOUND', 'NoSuchStyle', 'Expected an existing style but received "missing"', undefined],
  ];
  it.each(rows)('%s', (input, code, ossCode, message, ec) => {
    const e = refusal(() => parseProcess(input));
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
    expect(e.details?.ossCode).toBe(ossCode);
    expect(e.details?.ec).toBe(ec);
  });

  it('limits the number of actions', () => {
    const e = refusal(() => parseProcess('image/' + Array(5).fill('rotate,90').join('/'), { maxActions: 4 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('Expected at most 4 actions but received 5');
  });

  it('accepts flip when extensions are on', () => {
    expect(parseProcess('image/flip,hv', { extensions: true })).toEqual([{ action: 'flip', params: { value: 'hv' } }]);
  });
});

describe('URL-safe Base64', () => {
  it.each([
    ['SGVsbG8gV29ybGQ', 'Hello World'],
    ['SGVsbG8gV29ybGQ=', 'Hello World'],
    ['d3F5LXplbmhlaQ', 'wqy-zenhei'],
    ['ZHJvaWRzYW5zZmFsbGJhY2s', 'droidsansfallback'],
    ['5rC05Y2w', '水印'],
    ['Pz8_', '???'],
    ['Pj4-', '>>>'],
  ])('%s decodes to %s, with or without padding', (encoded, text) => {
    expect(decodeBase64Url(encoded)).toBe(text);
    expect(decodeBase64Url(encoded.replace(/=+$/, ''))).toBe(text);
    expect(encodeBase64Url(text)).toBe(encoded.replace(/=+$/, ''));
  });
  it.each(['', 'a', 'a+b/', '////', 'gA'])('refuses %j', (bad) => {
    expect(decodeBase64Url(bad)).toBeUndefined();
  });
});

describe('styles', () => {
  const styles = createStyleTable({ small: 'image/resize,w_100', 'thumb.v2': 'image/resize,m_fill,w_50,h_50/format,webp' });

  it('resolves style/<name> to its content', () => {
    expect(parseProcess('style/small', { styles })).toEqual(parseProcess('image/resize,w_100'));
    expect(parseProcess('style/thumb.v2', { styles }).map((o) => o.action)).toEqual(['resize', 'format']);
  });

  it('splits the delimiter form at the last delimiter naming a style', () => {
    expect(splitStyleDelimiter('photo.jpg!small', ['!'], styles)).toEqual({ key: 'photo.jpg', style: 'small' });
    expect(splitStyleDelimiter('my-photo.jpg-small', ['-'], styles)).toEqual({ key: 'my-photo.jpg', style: 'small' });
    expect(splitStyleDelimiter('dir/a.jpg_thumb.v2', ['-', '_'], styles)).toEqual({ key: 'dir/a.jpg', style: 'thumb.v2' });
    expect(splitStyleDelimiter('photo.jpg!nosuch', ['!'], styles)).toEqual({ key: 'photo.jpg!nosuch' });
    expect(splitStyleDelimiter('photo.jpg!small', [], styles)).toEqual({ key: 'photo.jpg!small' });
  });

  it.each([
    ['', '0017-00000250'],
    ['x'.repeat(64), '0017-00000250'],
    ['bad name', '0017-00000251'],
    ['a/b', '0017-00000251'],
  ])('refuses the style name %j', (name, ec) => {
    const e = refusal(() => createStyleTable({ [name]: 'image/resize,w_1' }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe(`The value: ${name} of parameter: stylename is invalid. Expected 1 to 63 characters from A-Z a-z 0-9 _ . - but received ${describeValue(name)}`);
    expect(e.details).toMatchObject({ ossCode: 'InvalidArgument', ec });
  });

  it('accepts 50 styles and refuses 51', () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, 'image/resize,w_1']));
    expect(createStyleTable(many(50)).size).toBe(50);
    const e = refusal(() => createStyleTable(many(51)));
    expect(e.message).toBe('Expected at most 50 styles but received 51');
  });

  it('refuses style content without the image/ prefix', () => {
    const e = refusal(() => createStyleTable({ small: 'resize,w_100' }));
    expect(e.message).toBe('Expected the content of style small to start with "image/" but received "resize,w_100"');
  });
});
