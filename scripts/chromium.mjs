/**
 * The Chromium that the browser suites and the browser benchmark drive (through playwright-core), found
 * the way a user has one:
 *   1. CHROMIUM_PATH or CHROME_PATH, when set (it must then exist);
 *   2. Playwright's own download (`npx playwright-core install chromium`), when present;
 *   3. the usual system installs: Debian's and Ubuntu's packages, Google Chrome, the macOS apps.
 * When none is there it throws with the one-line ways to get one, so a suite fails and says why
 * instead of skipping.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const SYSTEM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  ...(process.env.PROGRAMFILES ? [`${process.env.PROGRAMFILES}\\Google\\Chrome\\Application\\chrome.exe`] : []),
];

/** Headless, and nothing reaching the network on its own. */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
]);

export const HOW_TO_GET_CHROMIUM = [
  'The browser tests need Chromium or Chrome. Get one with',
  '  Debian/Ubuntu:  sudo apt-get install chromium   (Ubuntu: chromium-browser)',
  '  anywhere:       npx playwright-core install chromium',
  'or point CHROMIUM_PATH at a Chrome or Chromium binary.',
].join('\n');

/** Playwright's downloaded Chromium for this playwright-core version, if it has been installed. */
function playwrightDownload() {
  try {
    const path = chromium.executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined; // a platform Playwright has no build for
  }
}

/**
 * The Chromium to launch and where it was found; throws with HOW_TO_GET_CHROMIUM when there is none.
 * `where` narrows the places looked at (the tests use it to see what a machine without any says).
 */
export function findChromium(env = process.env, where = { systemPaths: SYSTEM_PATHS, playwright: playwrightDownload }) {
  for (const name of ['CHROMIUM_PATH', 'CHROME_PATH']) {
    const path = env[name];
    if (!path) continue;
    if (!existsSync(path)) throw new Error(`${name} is ${JSON.stringify(path)}, which does not exist.\n${HOW_TO_GET_CHROMIUM}`);
    return { path, source: name };
  }
  const downloaded = where.playwright();
  if (downloaded) return { path: downloaded, source: 'playwright' };
  const system = where.systemPaths.find((p) => existsSync(p));
  if (system) return { path: system, source: 'system' };
  throw new Error(`No Chromium found (looked at CHROMIUM_PATH, CHROME_PATH, Playwright's download and ${where.systemPaths.join(', ')}).\n${HOW_TO_GET_CHROMIUM}`);
}

/** Launch the Chromium findChromium() finds, headless. */
export function launchChromium() {
  return chromium.launch({ executablePath: findChromium().path, args: [...CHROMIUM_ARGS] });
}
