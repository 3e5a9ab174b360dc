import { describe, expect, it } from 'vitest';
import { compilePattern, DEFAULT_UPLOAD_PATTERN, matchesPattern } from '../../../adapters/events/pattern.js';
import { isImgpipeError } from '../../../src/errors.js';

// One event, many patterns: each row says whether the pattern matches it.
const event = {
  id: 'ev-1',
  source: 'acs.oss',
  type: 'oss:ObjectCreated:PutObject',
  subject: 'acs:oss:cn-hangzhou:123:photos/source/a b.JPG',
  empty: '',
  nothing: null,
  flag: true,
  tags: ['red', 'green', 42],
  data: {
    eventName: 'ObjectCreated:PutObject',
    region: 'cn-hangzhou',
    requestParameters: { sourceIPAddress: '10.0.0.77' },
    oss: { object: { key: 'source/a b.JPG', size: 122539, deltaSize: -12 } },
  },
};

const table: [string, unknown, boolean][] = [
  ['literal string', { source: ['acs.oss'] }, true],
  ['literal is case-sensitive', { source: ['ACS.OSS'] }, false],
  ['literal OR literal', { source: ['x', 'acs.oss'] }, true],
  ['literal number', { data: { oss: { object: { size: [122539] } } } }, true],
  ['literal number does not match its string', { data: { oss: { object: { size: ['122539'] } } } }, false],
  ['literal boolean', { flag: [true] }, true],
  ['"" matches the empty string', { empty: [''] }, true],
  ['"" does not match null', { nothing: [''] }, false],
  ['null matches null', { nothing: [null] }, true],
  ['null does not match the empty string', { empty: [null] }, false],
  ['prefix', { type: [{ prefix: 'oss:ObjectCreated:' }] }, true],
  ['prefix miss', { type: [{ prefix: 'oss:ObjectRemoved:' }] }, false],
  ['suffix', { data: { oss: { object: { key: [{ suffix: '.JPG' }] } } } }, true],
  ['suffix is case-sensitive', { data: { oss: { object: { key: [{ suffix: '.jpg' }] } } } }, false],
  ['contains', { subject: [{ contains: 'a b' }] }, true],
  ['contains miss', { subject: [{ contains: 'zzz' }] }, false],
  ['prefix and suffix in one object: both hold', { subject: [{ prefix: 'acs:oss', suffix: '.JPG' }] }, true],
  ['prefix and suffix in one object: one fails', { subject: [{ prefix: 'acs:oss', suffix: '.png' }] }, false],
  ['anything-but string', { source: [{ 'anything-but': 'acs.ecs' }] }, true],
  ['anything-but string miss', { source: [{ 'anything-but': 'acs.oss' }] }, false],
  ['anything-but list', { data: { region: [{ 'anything-but': ['cn-shanghai', 'cn-beijing'] }] } }, true],
  ['anything-but list miss', { data: { region: [{ 'anything-but': ['cn-hangzhou', 'cn-beijing'] }] } }, false],
  ['anything-but numbers', { data: { oss: { object: { size: [{ 'anything-but': [0, 1] }] } } } }, true],
  ['anything-but numbers miss', { data: { oss: { object: { size: [{ 'anything-but': [122539] }] } } } }, false],
  ['anything-but prefix', { type: [{ 'anything-but': { prefix: 'oss:ObjectRemoved' } }] }, true],
  ['anything-but prefix miss', { type: [{ 'anything-but': { prefix: 'oss:ObjectCreated' } }] }, false],
  ['anything-but needs the field', { missing: [{ 'anything-but': 'x' }] }, false],
  ['numeric >', { data: { oss: { object: { size: [{ numeric: ['>', 0] }] } } } }, true],
  ['numeric > miss', { data: { oss: { object: { size: [{ numeric: ['>', 122539] }] } } } }, false],
  ['numeric range', { data: { oss: { object: { size: [{ numeric: ['>', 100, '<=', 122539] }] } } } }, true],
  ['numeric range miss', { data: { oss: { object: { size: [{ numeric: ['>', 100, '<', 122539] }] } } } }, false],
  ['numeric =', { data: { oss: { object: { size: [{ numeric: ['=', 122539] }] } } } }, true],
  ['numeric >=', { data: { oss: { object: { size: [{ numeric: ['>=', 122539] }] } } } }, true],
  ['numeric negative', { data: { oss: { object: { deltaSize: [{ numeric: ['<', 0] }] } } } }, true],
  ['numeric on a string never matches', { source: [{ numeric: ['>', 0] }] }, false],
  ['cidr', { data: { requestParameters: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } } }, true],
  ['cidr miss', { data: { requestParameters: { sourceIPAddress: [{ cidr: '10.0.1.0/24' }] } } }, false],
  ['cidr /0', { data: { requestParameters: { sourceIPAddress: [{ cidr: '0.0.0.0/0' }] } } }, true],
  ['exists true', { data: { region: [{ exists: true }] } }, true],
  ['exists true miss', { data: { zone: [{ exists: true }] } }, false],
  ['exists false', { data: { zone: [{ exists: false }] } }, true],
  ['exists false miss', { data: { region: [{ exists: false }] } }, false],
  ['exists false under a missing parent', { nope: { deeper: [{ exists: false }] } }, true],
  ['exists true on null (the field is there)', { nothing: [{ exists: true }] }, true],
  ['array field shares an element', { tags: ['green', 'blue'] }, true],
  ['array field shares a number', { tags: [42] }, true],
  ['array field shares nothing', { tags: ['blue'] }, false],
  ['array field with prefix', { tags: [{ prefix: 'gr' }] }, true],
  ['named field must exist', { missing: ['x'] }, false],
  ['nested pattern against a scalar', { source: { deeper: ['x'] } }, false],
  ['AND across keys: all hold', { source: ['acs.oss'], type: [{ prefix: 'oss:' }] }, true],
  ['AND across keys: one fails', { source: ['acs.oss'], type: [{ prefix: 'mns:' }] }, false],
  ['{} never matches', { source: [{}] }, false],
  ['empty pattern matches everything', {}, true],
];

describe('EventBridge pattern matcher', () => {
  it.each(table)('%s', (_name, pattern, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  const invalid: [string, unknown, string][] = [
    ['leaf is not an array', { source: 'acs.oss' }, 'Expected an object mirroring the event, with arrays of conditions as leaves at pattern.source but received "acs.oss"'],
    ['empty condition list', { source: [] }, 'Expected at least one condition at pattern.source but received []'],
    ['unknown operator', { source: [{ regex: '.*' }] }, 'Expected an operator among prefix, suffix, contains, anything-but, numeric, cidr, exists at pattern.source[0] but received "regex"'],
    ['prefix not a string', { source: [{ prefix: 1 }] }, 'Expected a string at pattern.source[0].prefix but received 1'],
    ['numeric bad operator', { n: [{ numeric: ['!=', 1] }] }, 'Expected one of "=", ">", "<", ">=", "<=" at pattern.n[0].numeric[0] but received "!="'],
    ['numeric odd length', { n: [{ numeric: ['>', 1, '<'] }] }, 'Expected an array of one or two [operator, number] pairs such as [">", 0, "<=", 5] at pattern.n[0].numeric but received [">",1,"<"]'],
    ['numeric out of range', { n: [{ numeric: ['>', 2e9] }] }, 'Expected a number between -1e9 and 1e9 at pattern.n[0].numeric[1] but received 2000000000'],
    ['numeric too many decimals', { n: [{ numeric: ['>', 0.1234567] }] }, 'Expected a number with at most 15 digits and 6 decimal places at pattern.n[0].numeric[1] but received 0.1234567'],
    ['cidr IPv6', { ip: [{ cidr: '::1/128' }] }, 'Expected an IPv4 CIDR block such as "10.0.0.0/24" at pattern.ip[0].cidr but received "::1/128"'],
    ['cidr bad octet', { ip: [{ cidr: '10.0.0.256/8' }] }, 'Expected an IPv4 CIDR block such as "10.0.0.0/24" at pattern.ip[0].cidr but received "10.0.0.256/8"'],
    ['exists not boolean', { a: [{ exists: 'yes' }] }, 'Expected true or false at pattern.a[0].exists but received "yes"'],
    ['anything-but object', { a: [{ 'anything-but': { suffix: 'x' } }] }, 'Expected a string, a number, an array of them, or {"prefix": string} at pattern.a[0].anything-but but received {"suffix":"x"}'],
    ['pattern not an object', ['x'], 'Expected an object mirroring the event, with arrays of conditions as leaves at pattern but received ["x"]'],
  ];
  it.each(invalid)('refuses a malformed pattern: %s', (_name, pattern, message) => {
    let caught: unknown;
    try {
      compilePattern(pattern);
    } catch (e) {
      caught = e;
    }
    expect(isImgpipeError(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).toBe(message);
  });

  it('default upload pattern: created images with a size, not deletions, folders or text files', () => {
    const match = compilePattern(DEFAULT_UPLOAD_PATTERN);
    const ce = (eventName: string, key: string, size?: number) => ({ type: `oss:${eventName}`, data: { eventName, oss: { object: size === undefined ? { key } : { key, size } } } });
    expect(match(ce('ObjectCreated:PutObject', 'in/a.jpg', 10))).toBe(true);
    expect(match(ce('ObjectCreated:CompleteMultipartUpload', 'in/A.PNG', 10))).toBe(true);
    expect(match(ce('ObjectCreated:PostObject', 'in/a.webp'))).toBe(true);
    // Every format the registry reads, plug-in formats too: an iPhone's upload is not filtered out.
    for (const key of ['in/IMG_0001.HEIC', 'in/b.heif', 'in/c.hif', 'in/d.avif', 'in/e.JFIF', 'in/f.apng', 'in/g.GIF', 'in/Photo.Jpg', 'in/h.hEiC']) {
      expect(match(ce('ObjectCreated:PutObject', key, 10)), key).toBe(true);
    }
    expect(match(ce('ObjectCreated:PutObject', 'in/a.tiff', 10))).toBe(false);
    expect(match(ce('ObjectRemoved:DeleteObject', 'in/a.jpg', 10))).toBe(false);
    expect(match(ce('ObjectCreated:PutObject', 'in/a.jpg', 0))).toBe(false);
    expect(match(ce('ObjectCreated:PutObject', 'in/notes.txt', 10))).toBe(false);
  });
});
