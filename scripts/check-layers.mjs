// `npm run check:layers`: the source tree's floors hold. Fails on any import cycle
// among src/ files (type-only imports included) and on any import from a lower
// floor into a higher one. The floors are declared once, in scripts/floors.json.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// `--root DIR` checks another tree (the tests give it one with a cycle and an upward import).
const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? path.resolve(process.argv[rootArg + 1]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const floors = JSON.parse(readFileSync(path.join(root, 'scripts', 'floors.json'), 'utf8')).floors;

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [path.relative(root, full).split(path.sep).join('/')] : [];
  });
}

/** The floor of a file: the entry with the longest matching prefix. */
function floorOf(file) {
  let best = null;
  for (const [index, floor] of floors.entries()) {
    for (const prefix of floor.paths) {
      if ((file === prefix || file.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`) || file === `${prefix}.ts`) && (!best || prefix.length > best.prefix.length)) {
        best = { index, name: floor.name, prefix };
      }
    }
  }
  return best;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*'(\.{1,2}\/[^']+)'|import\s*\(\s*'(\.{1,2}\/[^']+)'\s*\)|^\s*import\s+'(\.{1,2}\/[^']+)'/gm;

function importsOf(file) {
  const text = readFileSync(path.join(root, file), 'utf8');
  const targets = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3];
    targets.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return targets;
}

const files = sourceFiles(path.join(root, 'src'));
const known = new Set(files);
const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => known.has(target))]));
const problems = [];

for (const file of files) {
  const from = floorOf(file);
  if (!from) { problems.push(`${file}: on no floor (declare it in scripts/floors.json)`); continue; }
  for (const target of graph.get(file)) {
    const to = floorOf(target);
    if (to && to.index > from.index) problems.push(`${file} (${from.name}) imports ${target} (${to.name}), a higher floor`);
  }
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let counter = 0;
const index = new Map(), low = new Map(), stack = [], onStack = new Set();
function visit(file) {
  index.set(file, counter); low.set(file, counter); counter++;
  stack.push(file); onStack.add(file);
  for (const target of graph.get(file)) {
    if (!index.has(target)) { visit(target); low.set(file, Math.min(low.get(file), low.get(target))); }
    else if (onStack.has(target)) low.set(file, Math.min(low.get(file), index.get(target)));
  }
  if (low.get(file) !== index.get(file)) return;
  const component = [];
  let member;
  do { member = stack.pop(); onStack.delete(member); component.push(member); } while (member !== file);
  if (component.length > 1 || graph.get(file).includes(file)) problems.push(`import cycle: ${component.sort().join(' <-> ')}`);
}
for (const file of files) if (!index.has(file)) visit(file);

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n${problems.length} layering problem(s)\n`);
  process.exit(1);
}
process.stdout.write(`layers ok: ${files.length} files on ${floors.length} floors, no cycles\n`);
