/**
 * The HTTP(S) check for appliances that report their replication over HTTP: the status code, and
 * the JSON body when the config points into it. TLS certificates must verify (add a private CA
 * with NODE_EXTRA_CA_CERTS).
 */
import type { HttpReading } from '../domain/probe.ts';
import type { ProbeConfig } from '../domain/probe-config.ts';

export async function readHttp(
  probe: Extract<ProbeConfig, { kind: 'http' }>,
  secret: Readonly<Record<string, unknown>> | undefined,
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
): Promise<HttpReading> {
  const host = probe.host.includes(':') ? `[${probe.host}]` : probe.host;
  const url = `${probe.protocol}://${host}:${probe.port}${probe.path}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (secret && typeof secret.token === 'string') headers.authorization = `Bearer ${secret.token}`;
  else if (secret && typeof secret.username === 'string' && typeof secret.password === 'string') {
    headers.authorization = `Basic ${Buffer.from(`${secret.username}:${secret.password}`).toString('base64')}`;
  }
  const res = await fetchImpl(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, ...(body !== undefined ? { body } : {}) };
}
