/**
 * Where OSS credentials come from: the STS triple Function Compute puts in `context.credentials`
 * (the function's role; preferred, short-lived), else the environment. FC also exports the role's
 * triple as ALIBABA_CLOUD_* variables; OSS_* are the names ossutil and the OSS samples use.
 */
import { ImgpipeError } from '../../src/index.js';
import type { FcContext } from '../fc/context.js';

export interface OssCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

const ENV_NAMES = [
  ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN'],
  ['OSS_ACCESS_KEY_ID', 'OSS_ACCESS_KEY_SECRET', 'OSS_SESSION_TOKEN'],
] as const;

/** Resolve credentials, or throw ACCESS_DENIED naming where they were looked for (never their values). */
export function resolveCredentials(context: FcContext | undefined, env: Readonly<Record<string, string | undefined>>): OssCredentials {
  const c = context?.credentials;
  if (c?.accessKeyId && c.accessKeySecret) {
    return Object.freeze({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken || undefined });
  }
  for (const [id, secret, token] of ENV_NAMES) {
    if (env[id] && env[secret]) return Object.freeze({ accessKeyId: env[id]!, accessKeySecret: env[secret]!, securityToken: env[token] || undefined });
  }
  throw new ImgpipeError(
    'ACCESS_DENIED',
    'Expected OSS credentials in context.credentials (a role on the function), ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET or OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET but found none',
  );
}
