// Keeps one core busy with memory-heavy JavaScript (random reads and writes in a large
// Map) for SECONDS, to measure what a server pays per unit of work when another busy
// process shares the machine (see docs/benchmarks.md, round 5).
//   node build/bench/cpu-hog.js SECONDS
const seconds = Number(process.argv[2]);
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.log('Usage: node build/bench/cpu-hog.js SECONDS');
  process.exit(2);
}
const ENTRIES = 300_000;
const table = new Map<string, { a: number; b: string; c: number[] }>();
for (let i = 0; i < ENTRIES; i++) table.set(`k${i}`, { a: i, b: `v${i}`, c: [i, i * 2] });
let sum = 0;
let rounds = 0;
const end = Date.now() + seconds * 1000;
while (Date.now() < end) {
  for (let i = 0; i < 10_000; i++) {
    sum += table.get(`k${Math.floor(Math.random() * ENTRIES)}`)!.c[1];
    table.set(`t${i % 5000}`, { a: sum, b: 'z'.repeat(50), c: [] });
  }
  rounds += 1;
}
console.log(`cpu-hog: ${rounds * 10_000} lookups in ${seconds} s`);
