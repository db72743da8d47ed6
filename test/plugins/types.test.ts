// `ternmail/plugin` gives TypeScript the types of every event and verdict: a plugin
// written in TypeScript compiles, and one returning a verdict its hook cannot take, or
// reading a field its event does not have, does not (test/plugins/typed/).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../support/clients.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('ternmail/plugin types', () => {
  it('type-check plugins written in TypeScript', async () => {
    const tsc = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'test/plugins/typed/tsconfig.json')]);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });
});
