import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The fixtures live in the repository (test/fixtures/, sources and licences in its README). */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const IMAGES = `${FIXTURES}images/`;
export const BAD = `${FIXTURES}bad/`;
export const FONTS = `${FIXTURES}fonts/`;

export const fixture = (rel: string): Uint8Array => new Uint8Array(readFileSync(FIXTURES + rel));
export const image = (name: string): Uint8Array => fixture(`images/${name}`);
export const listImages = (): string[] => readdirSync(IMAGES).sort();
export const listBad = (): string[] => readdirSync(BAD).sort();
