/**
 * Parameter specs for the x-oss-process grammar. A spec both checks a raw string value and says, in
 * words, what it expected: the same words end up in error messages and in the README's compatibility
 * table, so the two can never disagree.
 */
import { describeValue } from '../errors.js';
import { processError, type OssCode } from './oss-error.js';

export interface ParamSpec<T> {
  /** What the spec accepts, as it appears in messages: "an integer between 1 and 16384". */
  readonly expected: string;
  /** Short form for the compatibility table: "1..16384". */
  readonly range: string;
  /** The parsed value, or undefined when `raw` is not acceptable. */
  readonly parse: (raw: string) => T | undefined;
}

/** A parameter of an action: its spec, documentation, default and OSS's fine-grained error code. */
export interface ParamDef<T> {
  readonly spec: ParamSpec<T>;
  readonly doc: string;
  readonly default?: T;
  /** OSS's EC for a bad value of this parameter, where it is documented. */
  readonly ec?: string;
  /** Why imgpipe behaves differently from OSS here, if it does (shown in the README). */
  readonly note?: string;
}

const INT = /^[+-]?\d{1,10}$/;

/** A whole number in [min, max]. Decimal digits only: "1e3", "0x10" and "12px" are refused. */
export function int(min: number, max: number): ParamSpec<number> {
  return Object.freeze({
    expected: `an integer between ${min} and ${max}`,
    range: `${min}..${max}`,
    parse: (raw: string) => {
      if (!INT.test(raw)) return undefined;
      const n = Number(raw);
      return n >= min && n <= max ? n : undefined;
    },
  });
}

/** One of a fixed set of words (case-sensitive, as OSS). */
export function oneOf<const V extends string>(...values: V[]): ParamSpec<V> {
  const set = new Set<string>(values);
  return Object.freeze({
    expected: `one of ${values.join(', ')}`,
    range: values.join(' \\| '),
    parse: (raw: string) => (set.has(raw) ? (raw as V) : undefined),
  });
}

/** `0` or `1`, as a boolean. */
export const flag: ParamSpec<boolean> = Object.freeze({
  expected: '0 or 1',
  range: '0 \\| 1',
  parse: (raw: string) => (raw === '1' ? true : raw === '0' ? false : undefined),
});

export type RGB = readonly [number, number, number];

/** Six hex digits, no `#` (OSS's colour syntax). */
export const hex6: ParamSpec<RGB> = Object.freeze({
  expected: 'six hexadecimal digits (RRGGBB, no #)',
  range: 'RRGGBB',
  parse: (raw: string) => {
    if (!/^[0-9a-fA-F]{6}$/.test(raw)) return undefined;
    const n = parseInt(raw, 16);
    return Object.freeze([(n >> 16) & 255, (n >> 8) & 255, n & 255] as const);
  },
});

const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode OSS's URL-safe Base64 (`-` and `_` for `+` and `/`), with or without `=` padding, as
 * UTF-8. Undefined when the characters, the length or the UTF-8 are wrong.
 */
export function decodeBase64Url(raw: string): string | undefined {
  if (raw.length === 0 || !B64URL.test(raw)) return undefined;
  const bare = raw.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  const std = bare.replace(/-/g, '+').replace(/_/g, '/');
  try {
    const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
    return utf8.decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** Encode as OSS does: URL-safe Base64 of the UTF-8 bytes, without padding. */
export function encodeBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** URL-safe Base64 text of at most `maxChars` characters once decoded. */
export function b64url(maxChars: number): ParamSpec<string> {
  return Object.freeze({
    expected: `URL-safe Base64 of UTF-8 text of at most ${maxChars} characters`,
    range: `b64url, ≤${maxChars} chars`,
    parse: (raw: string) => {
      const text = decodeBase64Url(raw);
      return text !== undefined && text.length > 0 && [...text].length <= maxChars ? text : undefined;
    },
  });
}

/** Check `raw` against `def`, throwing OSS's InvalidArgument with a message that names everything. */
export function parseParam<T>(def: ParamDef<T>, raw: string, action: string, param: string, ossCode: OssCode = 'InvalidArgument'): T {
  const value = def.spec.parse(raw);
  if (value === undefined) {
    throw processError('INVALID_ARGUMENT', ossCode, `Expected ${def.spec.expected} for ${action}.${param} but received ${describeValue(raw)}`, {
      action, param, ec: def.ec,
    });
  }
  return value;
}
