// The layering check that `npm test` runs: the real tree passes, and a tree with an
// import cycle (type-only imports included), an import from a lower floor into a
// higher one, or a file on no floor fails with a line naming each problem.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = path.join(repo, 'scripts', 'check-layers.mjs');
const temp = mkdtempSync(path.join(os.tmpdir(), 'ternmail-layers-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(temp, 'tree-'));
  const floors = { floors: [{ name: 'low', paths: ['src/low'] }, { name: 'high', paths: ['src/high', 'src/top.ts'] }] };
  mkdirSync(path.join(root, 'scripts'));
  writeFileSync(path.join(root, 'scripts', 'floors.json'), JSON.stringify(floors));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

function check(root: string): { code: number; output: string } {
  const run = spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });
  return { code: run.status ?? -1, output: run.stdout + run.stderr };
}

describe('check-layers', () => {
  it('passes on the source tree as it is', () => {
    expect(execFileSync(process.execPath, [script], { encoding: 'utf8' })).toMatch(/^layers ok: \d+ files on \d+ floors, no cycles/);
  });

  it('passes a tree whose imports point down', () => {
    const root = tree({ 'src/low/a.ts': 'export const a = 1;\n', 'src/high/b.ts': "import { a } from '../low/a.js';\nexport const b = a;\n" });
    expect(check(root)).toEqual({ code: 0, output: 'layers ok: 2 files on 2 floors, no cycles\n' });
  });

  it('fails on an import from a lower floor into a higher one', () => {
    const root = tree({ 'src/low/a.ts': "import type { B } from '../high/b.js';\nexport type A = B;\n", 'src/high/b.ts': 'export type B = number;\n' });
    const result = check(root);
    expect(result.code).toBe(1);
    expect(result.output).toContain('src/low/a.ts (low) imports src/high/b.ts (high), a higher floor');
  });

  it('fails on a cycle of type-only imports inside one floor', () => {
    const root = tree({
      'src/high/b.ts': "import type { C } from './c.js';\nexport type B = C[];\n",
      'src/high/c.ts': "import type { B } from './b.js';\nexport interface C { b: B }\n",
    });
    const result = check(root);
    expect(result.code).toBe(1);
    expect(result.output).toContain('import cycle: src/high/b.ts <-> src/high/c.ts');
  });

  it('fails on a file that is on no floor', () => {
    const root = tree({ 'src/stray.ts': 'export const x = 1;\n' });
    expect(check(root).output).toContain('src/stray.ts: on no floor');
  });
});
