/**
 * How long a switchover execution's history can grow, from the configuration. Step Functions stops
 * an execution at 25,000 history events, and that failure is not caught by the workflow: it would
 * die wherever it is (after the fence: the primary fenced, the lease held, automation not paused).
 * The catch-up and verify loops write a fixed number of events per poll, so the poll interval and
 * the two timeouts bound the history; a configuration over the budget is refused at synth.
 *
 * Pure: no AWS SDK, no environment, no clock.
 */
import type { FailoverConfig, ServiceConfig } from './config.ts';
import type { ConfigProblem } from './errors.ts';

/** Step Functions' quota on one Standard execution's history. */
export const STEP_FUNCTIONS_HISTORY_LIMIT = 25_000;

/**
 * What a configuration may plan for: well under the quota, leaving room for Lambda retries (three
 * more events per retry), a rollback after the longest wait, and a future state or two.
 */
export const WORKFLOW_HISTORY_BUDGET = 10_000;

/**
 * History events written by one poll of the catch-up or verify loop: the check Task (entered,
 * scheduled, started, succeeded, exited), the Choice (entered, exited) and the Wait (entered,
 * exited). test/workflow/history-budget.test.ts measures it from the synthesized definition.
 */
export const EVENTS_PER_POLL = 9;

/**
 * Every event outside the two loops, bounded generously: every other state of the definition once
 * (at most 5 events each) and every Retry of it exhausted. The same test checks the bound against
 * the synthesized definition.
 */
export const EVENTS_OUTSIDE_LOOPS = 600;

/** Polls of a loop that waits `timeoutSeconds` (the first check happens before any wait). */
function polls(service: ServiceConfig, timeoutSeconds: number): number {
  return Math.ceil(timeoutSeconds / service.switchover.pollIntervalSeconds) + 1;
}

/** The most history events one switchover execution of `service` can write. */
export function workflowHistoryEvents(service: ServiceConfig): number {
  const { catchUpTimeoutSeconds, verifyTimeoutSeconds } = service.switchover;
  return (
    EVENTS_OUTSIDE_LOOPS +
    EVENTS_PER_POLL * (polls(service, catchUpTimeoutSeconds) + polls(service, verifyTimeoutSeconds))
  );
}

/** The shortest poll interval that keeps `service` within the budget with its timeouts. */
function minimumPollSeconds(service: ServiceConfig): number {
  for (let poll = service.switchover.pollIntervalSeconds; poll < 300; poll++) {
    const candidate = { ...service, switchover: { ...service.switchover, pollIntervalSeconds: poll } };
    if (workflowHistoryEvents(candidate) <= WORKFLOW_HISTORY_BUDGET) return poll;
  }
  return 300;
}

/** Services whose switchover could outgrow the history budget: reported at synth, all at once. */
export function workflowHistoryProblems(config: FailoverConfig): ConfigProblem[] {
  return config.services.flatMap((service, i) => {
    const events = workflowHistoryEvents(service);
    if (events <= WORKFLOW_HISTORY_BUDGET) return [];
    const { pollIntervalSeconds, catchUpTimeoutSeconds, verifyTimeoutSeconds } = service.switchover;
    return [
      {
        path: `services[${i}].switchover.pollIntervalSeconds`,
        message: `a switchover of ${service.id} could write about ${events.toLocaleString('en-US')} history events (${EVENTS_PER_POLL} per poll, every ${pollIntervalSeconds} s for catchUpTimeoutSeconds ${catchUpTimeoutSeconds} + verifyTimeoutSeconds ${verifyTimeoutSeconds}, plus ${EVENTS_OUTSIDE_LOOPS}), over the budget of ${WORKFLOW_HISTORY_BUDGET.toLocaleString('en-US')} (Step Functions stops an execution at ${STEP_FUNCTIONS_HISTORY_LIMIT.toLocaleString('en-US')}, uncaught): poll every ${minimumPollSeconds(service)} s or more, or shorten the timeouts`,
        value: pollIntervalSeconds,
      },
    ];
  });
}
