/**
 * The grammar's side of parameter specs: an op's `OpParam` (from `src/spec.ts`, owned by the op
 * file) plus OSS's facts about it, and the check that refuses a raw string with OSS's error.
 */
import { describeValue } from '../errors.js';
import type { OpParam } from '../spec.js';
import { processError, type OssCode } from './oss-error.js';

export { int, oneOf, choice, flag, hex6, gravity, b64url, decodeBase64Url, encodeBase64Url, type ParamSpec, type RGB } from '../spec.js';

/** A parameter of an action: the op's spec, documentation and default, plus OSS's fine-grained error code. */
export interface ParamDef<T> extends OpParam<T> {
  /** OSS's EC for a bad value of this parameter, where it is documented. */
  readonly ec?: string;
}

/** An op's parameter with OSS's EC for it. */
export const withEc = <T>(param: OpParam<T>, ec: string): ParamDef<T> => ({ ...param, ec });

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
