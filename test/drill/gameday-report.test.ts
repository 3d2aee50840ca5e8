/**
 * The game day's HTML report in a real browser (Debian's Chromium, headless, driven by
 * playwright-core), rendered from the JSON the last `npm run gameday` wrote (reports/gameday.json;
 * .ci/run runs the game day before this suite). Every scenario's chart must render with a real
 * size: the acknowledged writes per node, the outage gap where there was one, the event markers;
 * the page must fetch nothing; the README's picture (docs/gameday-writes.png) is taken from it.
 *
 * Needs `chromium` at /usr/bin/chromium (`apt-get install -y chromium`) and reports/gameday.json
 * (`npm run gameday`); without either this suite FAILS with the hint rather than skipping.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../drill/gameday/report.ts';
import type { GameDayReport } from '../../drill/gameday/run.ts';
import { type El, useReportPage } from '../support/chromium-page.ts';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
const REPORT_JSON = join(PROJECT_ROOT, 'reports', 'gameday.json');

let report: GameDayReport;
const browser = useReportPage('gameday', () => {
  if (!existsSync(REPORT_JSON)) {
    return new Error(`${REPORT_JSON} does not exist: run \`npm run gameday\` first (it writes the report).`);
  }
  report = JSON.parse(readFileSync(REPORT_JSON, 'utf8'));
  return renderHtml(report);
});

describe('game day HTML report in Chromium', () => {
  it('is self-contained: the only request is the file itself, and nothing logs an error', () =>
    browser.expectSelfContained());

  it('lists every scenario of the run in the overview with its verdict', async () => {
    const rows = await browser.tableRows('table.overview tbody tr');
    expect(rows.map((r) => r[0])).toEqual(report.scenarios.map((s) => s.name));
    expect(rows.map((r) => r[1])).toEqual(report.scenarios.map((s) => (s.passed ? 'PASS' : 'FAIL')));
  });

  it('draws each scenario: writes per node with a real size, the gap, the markers', async () => {
    browser.ready();
    for (const s of report.scenarios) {
      const drawn = await browser.page.$eval(`section#${s.name} svg.writes`, (node) => {
        const svg = node as unknown as El;
        const box = svg.getBoundingClientRect();
        const sized = (selector: string) =>
          Array.from(svg.querySelectorAll(selector)).map((el) => ({
            node: el.getAttribute('data-node'),
            area: el.getBBox().width * el.getBBox().height,
          }));
        return {
          width: box.width,
          height: box.height,
          bars: sized('rect.bar'),
          gap: sized('rect.gap'),
          markers: Array.from(svg.querySelectorAll('g.marker')).map((g) => ({
            kind: g.getAttribute('data-kind'),
            width: g.getBBox().width,
          })),
        };
      });
      expect(drawn.width, s.name).toBeGreaterThan(600);
      expect(drawn.height, s.name).toBeGreaterThan(150);
      // Every node that acknowledged writes has bars of a real size.
      const nodes = new Set(s.series.flatMap((b) => Object.keys(b.acks)));
      expect(new Set(drawn.bars.map((b) => b.node)), s.name).toEqual(nodes);
      for (const b of drawn.bars) expect(b.area, s.name).toBeGreaterThan(0);
      if (typeof s.figures.gapFromSecond === 'number' && typeof s.figures.gapToSecond === 'number') {
        expect(drawn.gap, s.name).toHaveLength(1);
        expect(drawn.gap[0]?.area, s.name).toBeGreaterThan(0);
      }
      expect(drawn.markers.length, s.name).toBe(s.markers.length);
      for (const m of drawn.markers) expect(m.width, s.name).toBeGreaterThan(0);
      if (s.markers.some((m) => m.kind === 'fault')) {
        expect(
          drawn.markers.some((m) => m.kind === 'fault'),
          s.name,
        ).toBe(true);
      }
    }
  });

  it('shows every measured figure and every check of each scenario', async () => {
    browser.ready();
    for (const s of report.scenarios) {
      const figures = await browser.page.$$eval(`section#${s.name} table.figures th`, (ths) =>
        (ths as unknown as El[]).map((th) => th.textContent ?? ''),
      );
      expect(figures, s.name).toEqual([...Object.keys(s.figures), 'lostIds']);
      const checks = await browser.page.$$eval(
        `section#${s.name} ul.checks li`,
        (lis) => (lis as unknown as El[]).length,
      );
      expect(checks, s.name).toBe(s.checks.length);
    }
  });

  it('takes the README picture of the primary-crash chart', async () => {
    browser.ready();
    const section = report.scenarios.find((s) => s.name === 'primary-crash');
    expect(section, 'the last game day ran primary-crash').toBeDefined();
    const svg = await browser.page.$('section#primary-crash svg.writes');
    const png = await svg!.screenshot({ path: join(PROJECT_ROOT, 'docs', 'gameday-writes.png') });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(5_000);
  });
});
