/**
 * The JSON report: everything a script or a dashboard needs, per scenario (outcome, RTO phases,
 * RPO bound, checks, timeline, series), plus the model the figures were computed under.
 */
import type { DrillReport } from '../run.ts';

export const REPORT_VERSION = 1;

export function toJson(report: DrillReport) {
  return {
    version: REPORT_VERSION,
    generatedAt: report.generatedAt,
    mode: report.mode,
    ...(report.endpoint ? { endpoint: report.endpoint } : {}),
    passed: report.passed,
    wallMs: report.wallMs,
    synthMs: report.synthMs,
    model: report.model,
    scenarios: report.scenarios.map((s) => ({
      name: s.name,
      title: s.title,
      summary: s.summary,
      passed: s.passed,
      checks: s.checks,
      serviceId: s.serviceId,
      router: s.router,
      outcome: {
        primary: s.primary,
        epoch: s.epoch,
        traffic: s.traffic,
        paused: s.state?.paused ?? false,
        history: s.history,
        trafficChanges: s.trafficChanges,
        holds: s.invocations
          .filter((i) => i.result?.outcome === 'held' || i.result?.outcome === 'ignored')
          .map((i) => ({
            at: i.at,
            outcome: i.result?.outcome,
            reason: i.result?.reason,
            detail: i.result?.detail,
          })),
        notifications: s.notifications,
      },
      recovery: s.recovery ?? null,
      nodeActions: s.nodeActions ?? null,
      invocations: s.invocations,
      events: s.events,
      executions: s.executions,
      timeline: s.timeline,
      series: s.series,
      lagDatapoints: s.lagDatapoints,
      markers: s.markers,
      durationSeconds: s.durationSeconds,
      wallMs: s.wallMs,
    })),
    config: report.config,
  };
}
