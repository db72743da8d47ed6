// `npm test`: runs vitest, then prints one plain summary line ("N passed, N failed")
// that CI can read, and exits with vitest's status.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const results = '.vitest-results.json';
rmSync(results, { force: true });
const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${results}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
let summary = null;
try {
  summary = JSON.parse(readFileSync(results, 'utf8'));
} catch {
  process.stdout.write('test results missing: vitest did not finish\n');
}
if (summary) {
  const skipped = (summary.numPendingTests ?? 0) + (summary.numTodoTests ?? 0);
  process.stdout.write(`\n${summary.numPassedTests} passed, ${summary.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
}
process.exit(run.status ?? 1);
