/**
 * The drill's HTML report in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * Every scenario's SVG timeline must render (its lanes, lag lines, budget line and markers present
 * with a non-zero size), the page must fetch nothing (self-contained), and the README's picture
 * (docs/drill-timeline.png) is taken from it.
 *
 * Needs `chromium` at /usr/bin/chromium (`apt-get install -y chromium`); without it this suite
 * FAILS with that hint rather than skipping. Run with `npm run test:browser`.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../drill/report/html.ts';
import { type DrillReport, runDrill } from '../../drill/run.ts';
import { SCENARIOS } from '../../drill/scenarios/index.ts';
import { PROJECT_ROOT } from '../../drill/sim/stack.ts';
import { type El, useReportPage } from '../support/chromium-page.ts';

let report: DrillReport;
const browser = useReportPage('drill', async () => {
  report = await runDrill({ scenarios: SCENARIOS });
  return renderHtml(report);
});

describe('drill HTML report in Chromium', () => {
  it('is self-contained: the only request is the file itself, and nothing logs an error', () =>
    browser.expectSelfContained());

  it('lists every scenario in the overview with its verdict', async () => {
    const rows = await browser.tableRows('table.overview:not(.node-actions) tbody tr');
    expect(rows.map((r) => r[0])).toEqual(SCENARIOS.map((s) => s.name));
    for (const row of rows) expect(row[4]).toMatch(/^(\d+)\/\1$/);
  });

  it('renders one SVG timeline per scenario, with a real size', async () => {
    browser.ready();
    const boxes = await browser.page.$$eval('svg.timeline', (svgs) =>
      (svgs as unknown as El[]).map((svg) => {
        const r = svg.getBoundingClientRect();
        return { scenario: svg.getAttribute('data-scenario'), width: r.width, height: r.height };
      }),
    );
    expect(boxes.map((b) => b.scenario)).toEqual(SCENARIOS.map((s) => s.name));
    for (const b of boxes) {
      expect(b.width, b.scenario ?? '').toBeGreaterThan(600);
      expect(b.height, b.scenario ?? '').toBeGreaterThan(200);
    }
  });

  it.each(SCENARIOS.map((s) => s.name))('draws the lanes, lag, budget and markers of %s', async (name) => {
    browser.ready();
    const outcome = report.scenarios.find((s) => s.name === name)!;
    const drawn = await browser.page.$eval(`svg.timeline[data-scenario="${name}"]`, (node) => {
      const svg = node as unknown as El;
      const sized = (selector: string) =>
        Array.from(svg.querySelectorAll(selector)).map((el) => {
          const b = el.getBBox();
          return { node: el.getAttribute('data-node'), width: b.width, height: b.height };
        });
      return {
        health: sized('rect.health-band'),
        alarms: sized('rect.alarm-band'),
        traffic: sized('rect.traffic-lane'),
        lag: sized('polyline.lag-line'),
        points: sized('circle.lag-point'),
        budget: sized('line.budget-line'),
        markers: Array.from(svg.querySelectorAll('g.marker')).map((g) => ({
          kind: g.getAttribute('class'),
          text: g.querySelector('text')?.textContent ?? '',
          width: g.getBBox().width,
        })),
      };
    });
    // Every node has a health band, each with a size.
    expect(new Set(drawn.health.map((h) => h.node))).toEqual(new Set(outcome.nodes));
    for (const h of drawn.health) expect(h.width * h.height).toBeGreaterThan(0);
    // Traffic lane covers the nodes traffic pointed at, in order.
    const lane = drawn.traffic.map((t) => t.node);
    expect(lane[0]).toBe(outcome.series[0]!.routedTo);
    expect(lane.at(-1)).toBe(outcome.traffic);
    for (const t of drawn.traffic) expect(t.width).toBeGreaterThan(0);
    // Lag lines and published datapoints, and the budget line across the chart.
    expect(drawn.lag.length).toBeGreaterThan(0);
    for (const l of drawn.lag) expect(l.width).toBeGreaterThan(0);
    expect(drawn.points.length).toBeGreaterThan(0);
    expect(drawn.budget).toHaveLength(1);
    expect(drawn.budget[0]!.width).toBeGreaterThan(500);
    // A marker for each decision and for the crash or the operator.
    expect(drawn.markers.length).toBeGreaterThan(0);
    for (const m of drawn.markers) expect(m.width).toBeGreaterThan(0);
    const texts = drawn.markers.map((m) => m.text).join(' | ');
    if (outcome.trafficChanges.length > 0 && outcome.recovery?.kind === 'auto-failover') {
      expect(texts).toMatch(/failover /);
    }
    if (outcome.invocations.some((i) => i.result?.reason === 'lag-over-budget')) {
      expect(texts).toMatch(/hold: lag-over-budget/);
    }
    if (
      outcome.invocations.some(
        (i) => i.result?.outcome === 'held' && i.result.reason !== 'not-an-alarm-transition',
      )
    ) {
      expect(drawn.markers.some((m) => m.kind?.includes('hold'))).toBe(true);
    }
    if (outcome.executions.length > 0) expect(texts).toMatch(/operator: /);
    if (outcome.invocations.some((i) => i.transition === 'OK->ALARM'))
      expect(drawn.alarms.length).toBeGreaterThan(0);
  });

  it('shows the RTO split of each recovered scenario as a bar whose phases add up', async () => {
    browser.ready();
    for (const s of report.scenarios) {
      const phases = await browser.page.$$eval(`section#${s.name} .rto .phase`, (divs) =>
        (divs as unknown as El[]).map((d) => d.getBoundingClientRect().width),
      );
      if (!s.recovery) {
        expect(phases, s.name).toEqual([]);
        continue;
      }
      expect(phases, s.name).toHaveLength(s.recovery.phases.length);
      const barWidth = await browser.page.$eval(
        `section#${s.name} .rto`,
        (d) => (d as unknown as El).getBoundingClientRect().width,
      );
      expect(phases.reduce((a, w) => a + w, 0)).toBeGreaterThan(barWidth * 0.95);
    }
  });

  it('takes the README picture of the primary-crash timeline', async () => {
    browser.ready();
    const figure = await browser.page.$('section#primary-crash figure.timeline-figure');
    expect(figure).not.toBeNull();
    const path = join(PROJECT_ROOT, 'docs', 'drill-timeline.png');
    const png = await figure!.screenshot({ path });
    // A PNG signature and a picture of real size, not an empty crop.
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const box = await figure!.boundingBox();
    expect(box!.width).toBeGreaterThan(800);
    expect(box!.height).toBeGreaterThan(400);
  });
});
