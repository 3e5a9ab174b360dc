/**
 * How the browser suites find their Chromium (scripts/chromium.mjs): the environment first, then
 * Playwright's download, then system installs; with none, an error that says how to get one.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOW_TO_GET_CHROMIUM, findChromium, launchChromium } from '../../scripts/chromium.mjs';

const dir = mkdtempSync(join(tmpdir(), 'imgpipe-chromium-'));
const fakeA = join(dir, 'a');
const fakeB = join(dir, 'b');
writeFileSync(fakeA, '');
writeFileSync(fakeB, '');
const nowhere = { systemPaths: [join(dir, 'missing')], playwright: () => undefined };

describe('findChromium', () => {
  it('takes CHROMIUM_PATH before CHROME_PATH, Playwright and the system', () => {
    expect(findChromium({ CHROMIUM_PATH: fakeA, CHROME_PATH: fakeB }, { systemPaths: [fakeB], playwright: () => fakeB }))
      .toEqual({ path: fakeA, source: 'CHROMIUM_PATH' });
    expect(findChromium({ CHROME_PATH: fakeB }, { systemPaths: [fakeA], playwright: () => fakeA }))
      .toEqual({ path: fakeB, source: 'CHROME_PATH' });
  });

  it("takes Playwright's download before a system install, and a system install last", () => {
    expect(findChromium({}, { systemPaths: [fakeB], playwright: () => fakeA })).toEqual({ path: fakeA, source: 'playwright' });
    expect(findChromium({}, { systemPaths: [join(dir, 'missing'), fakeB], playwright: () => undefined })).toEqual({ path: fakeB, source: 'system' });
  });

  it('refuses a CHROMIUM_PATH that does not exist instead of looking elsewhere', () => {
    expect(() => findChromium({ CHROMIUM_PATH: join(dir, 'nope') }, { systemPaths: [fakeA], playwright: () => fakeA }))
      .toThrow(`CHROMIUM_PATH is ${JSON.stringify(join(dir, 'nope'))}, which does not exist.\n${HOW_TO_GET_CHROMIUM}`);
  });

  it('with no Chromium anywhere, fails saying where it looked and how to get one', () => {
    expect(() => findChromium({}, nowhere)).toThrow(
      `No Chromium found (looked at CHROMIUM_PATH, CHROME_PATH, Playwright's download and ${join(dir, 'missing')}).\n${HOW_TO_GET_CHROMIUM}`,
    );
    expect(HOW_TO_GET_CHROMIUM).toContain('sudo apt-get install chromium');
    expect(HOW_TO_GET_CHROMIUM).toContain('npx playwright-core install chromium');
  });

  it('finds a Chromium on this machine that launches', async () => {
    const browser = await launchChromium();
    try {
      expect(browser.version()).toMatch(/^\d+\./);
    } finally {
      await browser.close();
    }
  });
});
