/**
 * Parameter specs: one definition of what a parameter accepts, read both by the typed operations
 * (`blur(img, { radius: 60 })`) and by the x-oss-process grammar (`blur,r_60`). A spec checks a raw
 * string (`parse`) and a typed value (`check`) against the same constraint and says, in words, what it
 * expected; those words end up in both layers' error messages and in the README's compatibility
 * table, so none of them can disagree. Each op file owns its specs (`OpParams`); the action table
 * (`process/actions.ts`) builds its rows from them and adds only OSS's facts.
 */
import { ImgpipeError, describeValue } from './errors.js';

export interface ParamSpec<T> {
  /** What the spec accepts, as it appears in messages: "an integer between 1 and 16384". */
  readonly expected: string;
  /** The same for typed values, where their kind differs from the string's (a flag is a boolean). */
  readonly typed?: string;
  /** Short form for the compatibility table: "1..16384". */
  readonly range: string;
  /** The parsed value of a raw (URL) string, or undefined when `raw` is not acceptable. */
  readonly parse: (raw: string) => T | undefined;
  /** A typed value as the operation takes it, or undefined when it is not acceptable. */
  readonly check: (value: unknown) => T | undefined;
}

/** One parameter of an operation: its spec, what it means, its default and its typed option name. */
export interface OpParam<T> {
  readonly spec: ParamSpec<T>;
  readonly doc: string;
  readonly default?: T;
  /** The typed API's name when it differs from the parameter's (OSS's) name: `radius` for `r`. */
  readonly option?: string;
  /** Why imgpipe behaves differently from OSS here, if it does (shown in the README). */
  readonly note?: string;
}

export type OpParams = Readonly<Record<string, OpParam<unknown>>>;

const INT = /^[+-]?\d{1,10}$/;

/** A whole number in [min, max]. Decimal digits only in strings: "1e3", "0x10" and "12px" are refused. */
export function int(min: number, max: number): ParamSpec<number> {
  const inRange = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
  return Object.freeze({
    expected: `an integer between ${min} and ${max}`,
    range: `${min}..${max}`,
    parse: (raw: string) => (INT.test(raw) && inRange(Number(raw)) ? Number(raw) : undefined),
    check: (v: unknown) => (inRange(v) ? v : undefined),
  });
}

/** One of a fixed set of words (case-sensitive, as OSS). */
export function oneOf<const V extends string>(...values: V[]): ParamSpec<V> {
  const set = new Set<unknown>(values);
  return Object.freeze({
    expected: `one of ${values.join(', ')}`,
    range: values.join(' \\| '),
    parse: (raw: string) => (set.has(raw) ? (raw as V) : undefined),
    check: (v: unknown) => (set.has(v) ? (v as V) : undefined),
  });
}

/** One of a few numbers, written as digits (OSS's `order_0`, `align_2`). */
export function choice<const V extends number>(...values: V[]): ParamSpec<V> {
  const set = new Set<unknown>(values);
  return Object.freeze({
    expected: `one of ${values.join(', ')}`,
    range: values.join(' \\| '),
    parse: (raw: string) => (/^\d$/.test(raw) && set.has(Number(raw)) ? (Number(raw) as V) : undefined),
    check: (v: unknown) => (set.has(v) ? (v as V) : undefined),
  });
}

/** `0` or `1` in strings, a boolean in the typed API. */
export const flag: ParamSpec<boolean> = Object.freeze({
  expected: '0 or 1',
  typed: 'true or false',
  range: '0 \\| 1',
  parse: (raw: string) => (raw === '1' ? true : raw === '0' ? false : undefined),
  check: (v: unknown) => (typeof v === 'boolean' ? v : undefined),
});

export type RGB = readonly [number, number, number];

/** Six hex digits, no `#` (OSS's colour syntax, also the typed API's): the one colour parser. */
export const hex6: ParamSpec<RGB> = Object.freeze({
  expected: 'six hexadecimal digits (RRGGBB, no #)',
  range: 'RRGGBB',
  parse: parseHex6,
  check: (v: unknown) => (typeof v === 'string' ? parseHex6(v) : undefined),
});

function parseHex6(raw: string): RGB | undefined {
  if (!/^[0-9a-fA-F]{6}$/.test(raw)) return undefined;
  const n = parseInt(raw, 16);
  return Object.freeze([(n >> 16) & 255, (n >> 8) & 255, n & 255] as const);
}

/** The nine anchors of a 3x3 grid that crop and watermark place by (OSS's `g`). */
export const GRAVITIES = ['nw', 'north', 'ne', 'west', 'center', 'east', 'sw', 'south', 'se'] as const;
export type Gravity = (typeof GRAVITIES)[number];
export const gravity: ParamSpec<Gravity> = oneOf(...GRAVITIES);

/** The grid cell of an anchor: 0 from the start edge, 1 centred, 2 from the end edge, per axis. */
export function gravityCell(g: Gravity): { readonly col: 0 | 1 | 2; readonly row: 0 | 1 | 2 } {
  const col = g === 'nw' || g === 'west' || g === 'sw' ? 0 : g === 'ne' || g === 'east' || g === 'se' ? 2 : 1;
  const row = g === 'nw' || g === 'north' || g === 'ne' ? 0 : g === 'sw' || g === 'south' || g === 'se' ? 2 : 1;
  return { col, row };
}

/** Encoder quality, 1..100: `encode`, the recipe's outputs and `quality,q_/Q_`. */
export const QUALITY: ParamSpec<number> = int(1, 100);

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

/** Text of 1 to `maxChars` characters; in strings, URL-safe Base64 of its UTF-8. */
export function b64url(maxChars: number): ParamSpec<string> {
  const fits = (text: unknown): text is string => typeof text === 'string' && text.length > 0 && [...text].length <= maxChars;
  return Object.freeze({
    expected: `URL-safe Base64 of UTF-8 text of at most ${maxChars} characters`,
    range: `b64url, ≤${maxChars} chars`,
    parse: (raw: string) => {
      const text = decodeBase64Url(raw);
      return fits(text) ? text : undefined;
    },
    check: (v: unknown) => (fits(v) ? v : undefined),
  });
}

/** The refusal when none of an operation's alternative parameters is given (both layers' words). */
export function missingMessage(op: string, names: readonly string[]): string {
  const full = names.map((p) => `${op}.${p}`);
  return `Expected ${full.length === 1 ? `a value for ${full[0]}` : `at least one of ${full.join(', ')}`} but received none`;
}

/**
 * Check a typed option against its spec, throwing INVALID_ARGUMENT in the grammar's words:
 * `Expected an integer between 1 and 50 for blur.r (radius) but received 60`. Undefined is the
 * parameter's default when it has one.
 */
export function checkOption<T>(op: string, name: string, param: OpParam<T>, value: unknown): T {
  if (value === undefined && param.default !== undefined) return param.default;
  const checked = param.spec.check(value);
  if (checked === undefined) {
    // The grammar's name, then the typed option's, so either reader finds what they wrote.
    const option = param.option ?? name;
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected ${param.spec.typed ?? param.spec.expected} for ${op}.${name} (${option}) but received ${describeValue(value)}`, {
      details: { param: name, option, received: value },
    });
  }
  return checked;
}
