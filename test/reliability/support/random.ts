/** A small seeded PRNG (mulberry32): the same seed gives the same interleaving, so a failure replays. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Latency between 1 and `maxMs` ms (virtual), drawn per call: concurrent callers interleave differently per seed. */
export function jitter(seed: number, maxMs = 40): () => number {
  const next = prng(seed);
  return () => 1 + Math.floor(next() * maxMs);
}
