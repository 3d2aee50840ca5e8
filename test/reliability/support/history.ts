/**
 * Step Functions history events of one execution, from what the local run saw: every state it
 * entered (a Task writes entered, scheduled, started, succeeded or failed, exited; any other state
 * entered and exited) and every extra attempt of a Task (failed, scheduled, started again), plus
 * ExecutionStarted and the final event. The quota is 25,000 per execution, and passing it is not
 * caught by the workflow.
 */
// biome-ignore lint/suspicious/noExplicitAny: ASL is walked structurally
type Json = any;

export function historyEvents(definition: Json, entered: readonly string[], attempts: number): number {
  const states = definition.States as Record<string, Json>;
  let events = 2;
  let taskVisits = 0;
  for (const name of entered) {
    const task = states[name]?.Type === 'Task';
    if (task) taskVisits++;
    events += task ? 5 : 2;
  }
  return events + 3 * Math.max(0, attempts - taskVisits);
}
