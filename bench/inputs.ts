/**
 * Benchmark inputs. The standard photo is a fixture (test/fixtures/); the 5640x3172 photo comes from Debian's
 * `mate-backgrounds` package and is fetched with apt into `bench/.cache/` the first time it is needed
 * (46 MB package, never committed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputId } from './workloads.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = resolve(BENCH_DIR, '..');
export const CACHE_DIR = join(BENCH_DIR, '.cache');
export const FIXTURES_DIR = resolve(ROOT_DIR, 'test/fixtures');

const ELEPHANTS_IN_PACKAGE = 'usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg';
const PACKAGE_DIR = join(CACHE_DIR, 'mate-backgrounds');

export const INPUTS: Readonly<Record<InputId, { readonly label: string; readonly path: string }>> = Object.freeze({
  photo: { label: '2569067123_aca715a2ee_o.jpg (2725x2225)', path: join(FIXTURES_DIR, 'images/2569067123_aca715a2ee_o.jpg') },
  elephants: { label: 'Elephants_5640x3172.jpg (Debian mate-backgrounds)', path: join(PACKAGE_DIR, ELEPHANTS_IN_PACKAGE) },
});

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Download and unpack mate-backgrounds unless the photo is already cached. Returns its path. */
export function ensureElephants(log: (line: string) => void = () => {}): string {
  const target = INPUTS.elephants.path;
  if (existsSync(target)) return target;
  mkdirSync(CACHE_DIR, { recursive: true });
  log('fetching mate-backgrounds with apt-get download (once; cached in bench/.cache/)');
  try {
    run('apt-get', ['download', 'mate-backgrounds'], CACHE_DIR);
  } catch {
    // A fresh machine has no package lists yet: refresh them once and retry.
    run('apt-get', ['update'], CACHE_DIR);
    run('apt-get', ['download', 'mate-backgrounds'], CACHE_DIR);
  }
  const deb = readdirSync(CACHE_DIR).find((f) => /^mate-backgrounds_.*\.deb$/.test(f));
  if (!deb) throw new Error('apt-get download mate-backgrounds left no .deb in bench/.cache/');
  run('dpkg-deb', ['-x', join(CACHE_DIR, deb), PACKAGE_DIR], CACHE_DIR);
  if (!existsSync(target)) throw new Error(`mate-backgrounds no longer contains ${ELEPHANTS_IN_PACKAGE}`);
  return target;
}
