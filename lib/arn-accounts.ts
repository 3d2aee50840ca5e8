/**
 * Which accounts the configuration may reach. Hook functions are invoked by the state machine and
 * subscriber queues and functions receive every announcement; a function or queue in an account
 * nobody meant to trust would run with (or read) the automation's plans. The schema already
 * refuses wildcards and partial ARNs; this checks the account of each such ARN at synth.
 */
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import type { ConfigProblem } from '../lambdas/domain/errors.ts';

interface NamedArn {
  readonly path: string;
  readonly arn: string;
}

const accountOf = (arn: string): string => arn.split(':')[4] ?? '';

/** Every hook and subscriber ARN of the configuration, with its field path. */
export function reachableArns(config: FailoverConfig): NamedArn[] {
  const out: NamedArn[] = [];
  config.services.forEach((service, si) => {
    for (const role of ['fence', 'promote', 'demote'] as const) {
      const arn = service.hooks?.[role];
      if (arn !== undefined) out.push({ path: `services[${si}].hooks.${role}`, arn });
      const action = service.actions?.[role];
      if (action?.type === 'lambda') {
        out.push({ path: `services[${si}].actions.${role}.functionArn`, arn: action.functionArn });
      }
      service.nodes.forEach((node, ni) => {
        const own = node.actions?.[role];
        if (own?.type === 'lambda') {
          out.push({
            path: `services[${si}].nodes[${ni}].actions.${role}.functionArn`,
            arn: own.functionArn,
          });
        }
      });
    }
  });
  config.notifications.subscribers.forEach((s, i) => {
    if (s.protocol === 'sqs' || s.protocol === 'lambda')
      out.push({ path: `notifications.subscribers[${i}].endpoint`, arn: s.endpoint });
  });
  return out;
}

/** Accounts the load balancer ARNs name: the Lambdas call ELB in their own account, so these are the stack's. */
function loadBalancerAccounts(config: FailoverConfig): Set<string> {
  const accounts = new Set<string>();
  for (const service of config.services) {
    const r = service.router;
    if (r.type === 'elbv2-target') accounts.add(accountOf(r.targetGroupArn));
    if (r.type === 'elbv2-weighted') accounts.add(accountOf(r.listenerArn));
    for (const node of service.nodes) {
      if (node.targetGroupArn) accounts.add(accountOf(node.targetGroupArn));
      if (node.health.type === 'target-group-health') accounts.add(accountOf(node.health.targetGroupArn));
    }
  }
  return accounts;
}

export interface ArnAccountCheck {
  readonly problems: ConfigProblem[];
  /** Set when no account could be established, so only consistency was checked. */
  readonly unchecked?: string;
}

/**
 * Every hook and subscriber ARN must be in the home account or in `allowedAccountIds`. The home
 * account is the stack's when known (`-c account=...`, or the CLI's credentials), else the account
 * the load balancer ARNs name; with neither, the ARNs outside `allowedAccountIds` must at least
 * agree on one account, and the result says the account itself went unchecked.
 */
export function checkArnAccounts(config: FailoverConfig, homeAccount: string | undefined): ArnAccountCheck {
  const allowed = new Set(config.allowedAccountIds);
  const arns = reachableArns(config);
  const home = homeAccount !== undefined ? new Set([homeAccount]) : loadBalancerAccounts(config);
  const problems: ConfigProblem[] = [];
  if (home.size > 0) {
    const homes = [...home].join(', ');
    for (const { path, arn } of arns) {
      const account = accountOf(arn);
      if (!home.has(account) && !allowed.has(account)) {
        problems.push({
          path,
          message: `is in account ${account}, not the stack's (${homes}); list it in allowedAccountIds to trust it`,
          value: arn,
        });
      }
    }
    return { problems };
  }
  const outside = arns.filter(({ arn }) => !allowed.has(accountOf(arn)));
  const first = outside[0];
  if (first === undefined) return { problems };
  for (const { path, arn } of outside) {
    if (accountOf(arn) !== accountOf(first.arn)) {
      problems.push({
        path,
        message: `is in account ${accountOf(arn)}, while ${first.path} is in ${accountOf(first.arn)}; only one account can be the stack's: list the other in allowedAccountIds`,
        value: arn,
      });
    }
  }
  return {
    problems,
    unchecked: `the stack's account is unknown (no -c account=..., no credentials): hook and subscriber ARNs were assumed to be in account ${accountOf(first.arn)}`,
  };
}
