// `npm run docs:config`: writes docs/configuration.md from the section declarations
// (src/*/settings.ts), through the built tree. test/config/reference.test.ts fails when
// the committed file differs from what this prints.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { configurationReference } = await import(path.join(root, 'build', 'src', 'settings.js'));
writeFileSync(path.join(root, 'docs', 'configuration.md'), configurationReference());
console.log('docs/configuration.md written');
