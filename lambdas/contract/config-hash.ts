/**
 * The fingerprint of a validated configuration: the stack publishes it as the `ConfigHash` output,
 * and the operator CLI compares it with the hash of its local file before it changes anything, so
 * an operator with a stale or different configuration (another primary, other nodes, other hooks)
 * is stopped instead of acting on it. Keys are sorted, so formatting and key order do not matter;
 * defaults are applied (it hashes the parser's output), so spelling a default out does not either.
 */
import { createHash } from 'node:crypto';
import type { FailoverConfig } from '../domain/config.ts';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** `sha256:<hex>` of the configuration's canonical JSON. */
export function configHash(config: FailoverConfig): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(canonical(config)))
    .digest('hex')}`;
}
