import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { README, END, START, renderCompat, updateReadme } from '../../scripts/gen-compat.js';
import { ACTIONS, ACTION_NAMES } from '../../src/process/actions.js';

describe('README compatibility table', () => {
  it('is up to date with the action table (run `npm run docs:compat`)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toContain(START);
    expect(updateReadme(readme)).toBe(readme);
  });

  it('lists every action and every parameter', () => {
    const table = renderCompat();
    for (const name of ACTION_NAMES) {
      expect(table).toContain(`| \`${name}\` |`);
      for (const [param, def] of Object.entries(ACTIONS[name].params)) {
        if (param !== (ACTIONS[name] as { positional?: string }).positional) expect(table).toContain(`| \`${param}\` | ${def.spec.range} |`);
      }
    }
  });

  it('appends the markers when absent and replaces only the section when present', () => {
    const fresh = updateReadme('# Title\n\nText.\n');
    expect(fresh.startsWith('# Title\n\nText.\n\n<!-- compat:start -->\n')).toBe(true);
    expect(fresh.endsWith(`${END}\n`)).toBe(true);
    const stale = `# T\n${START}\nold\n${END}\nafter\n`;
    expect(updateReadme(stale)).toBe(`# T\n${START}\n${renderCompat()}\n${END}\nafter\n`);
  });
});
