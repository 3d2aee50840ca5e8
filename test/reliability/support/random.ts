import { seededRandom } from '../../../lambdas/testing/route53-sim.ts';

/** A small seeded PRNG (mulberry32): the same seed gives the same interleaving, so a failure replays. */
export const prng: (seed: number) => () => number = seededRandom;

/** Latency between 1 and `maxMs` ms (virtual), drawn per call: concurrent callers interleave differently per seed. */
export function jitter(seed: number, maxMs = 40): () => number {
  const next = prng(seed);
  return () => 1 + Math.floor(next() * maxMs);
}
