// A small seeded PRNG (mulberry32) so every run picks the same recipients.
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A user address userNNNN@domain with a 1-based index, four digits at least. */
export function userAddress(index: number, domain: string): string {
  return `user${index.toString().padStart(4, '0')}@${domain}`;
}
