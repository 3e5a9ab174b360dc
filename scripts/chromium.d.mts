import type { Browser } from 'playwright-core';
/** Headless Chromium flags with nothing reaching the network on its own. */
export const CHROMIUM_ARGS: readonly string[];
/** The one-line ways to get a Chromium, as the error says them. */
export const HOW_TO_GET_CHROMIUM: string;
/** CHROMIUM_PATH/CHROME_PATH, then Playwright's download, then system installs; throws with HOW_TO_GET_CHROMIUM when none. */
export function findChromium(
  env?: Record<string, string | undefined>,
  where?: { systemPaths: readonly string[]; playwright: () => string | undefined },
): { path: string; source: 'CHROMIUM_PATH' | 'CHROME_PATH' | 'playwright' | 'system' };
/** Launch the Chromium findChromium() finds, headless. */
export function launchChromium(): Promise<Browser>;
