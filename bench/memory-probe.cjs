// Preloaded into a server under test (NODE_FLAGS="--require .../bench/memory-probe.cjs"):
// on SIGWINCH it appends the process's memory breakdown, as one JSON line, to
// $MEMORY_PROBE_FILE (default /tmp/memory-probe.<pid>.jsonl). Lets a benchmark tell V8
// heap (used vs committed, per space) from array buffers and other native memory.
'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');

const file = process.env.MEMORY_PROBE_FILE || `/tmp/memory-probe.${process.pid}.jsonl`;
const mib = (n) => Math.round((n / 1048576) * 10) / 10;

process.on('SIGWINCH', () => {
  const usage = process.memoryUsage();
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) {
    spaces[s.space_name] = { committedMiB: mib(s.physical_space_size), usedMiB: mib(s.space_used_size) };
  }
  const line = {
    at: new Date().toISOString(),
    rssMiB: mib(usage.rss), heapTotalMiB: mib(usage.heapTotal), heapUsedMiB: mib(usage.heapUsed),
    externalMiB: mib(usage.external), arrayBuffersMiB: mib(usage.arrayBuffers),
    mallocedMiB: mib(v8.getHeapStatistics().malloced_memory), spaces,
  };
  fs.appendFileSync(file, JSON.stringify(line) + '\n');
});
