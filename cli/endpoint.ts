/**
 * `--endpoint-url` / `AWS_ENDPOINT_URL` send every AWS call, signed with the operator's
 * credentials, wherever they point. Loopback (moto_server, a local emulator) and AWS's own domains
 * are expected; anything else gets a warning on every run, because a stale variable in a shell
 * profile would otherwise leak signed requests and show a fake state as if it were real.
 */

const AWS_DOMAINS = /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|api\.aws|on\.aws)$/;

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** The warning to print for this endpoint, or undefined when it is AWS or this machine. */
export function endpointWarning(endpoint: string | undefined, source: string): string | undefined {
  if (endpoint === undefined || endpoint === '') return undefined;
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return `warning: ${source} is not a URL (${endpoint}); the AWS SDK may refuse it or send requests elsewhere`;
  }
  if (isLoopback(host) || AWS_DOMAINS.test(host.toLowerCase())) return undefined;
  return (
    `warning: ${source} sends every AWS call, signed with your credentials, to ${endpoint}, ` +
    'which is neither AWS nor this machine; what it answers is not the real state of your services'
  );
}
