/**
 * The game day's reports: JSON with every figure, and one self-contained HTML page (inline CSS and
 * SVG, no script, nothing fetched) with, per scenario, the client's acknowledged writes per second
 * by node, its failed attempts, the outage gap and every event of the timeline, drawn from the
 * measurements (the drill's report draws a simulation; this one draws what happened).
 */

import { REPORT_CSS } from '../report/style.ts';
import { esc, NODE_COLORS } from '../report/svg.ts';
import { formatEntry } from '../timeline.ts';
import type { GameDayReport } from './run.ts';
import type { GameDayScenarioResult, Marker } from './scenario.ts';

export const REPORT_VERSION = 1;

export function toJson(report: GameDayReport) {
  return { version: REPORT_VERSION, ...report };
}

const NODE_COLOR: Record<string, string> = {
  'db-a': NODE_COLORS[0] as string,
  'db-b': NODE_COLORS[1] as string,
};
const MARKER_COLOR: Record<Marker['kind'], string> = {
  fault: '#c53030',
  alarm: '#dd6b20',
  decision: '#2f855a',
  dns: '#319795',
  action: '#6b46c1',
  operator: '#6b46c1',
  check: '#4a5568',
};

const WIDTH = 1000;
const LEFT = 60;
const RIGHT = 20;
const PLOT = WIDTH - LEFT - RIGHT;
const CHART_H = 140;
const MARKER_ROW_H = 14;

/** The scenario's writes per second (stacked by node), failures, the gap, and its event markers. */
export function writesSvg(s: GameDayScenarioResult): string {
  const duration = Math.max(1, s.series.length);
  const x = (t: number) => LEFT + (t / duration) * PLOT;
  const max = Math.max(
    10,
    ...s.series.map((b) => Object.values(b.acks).reduce((n, v) => n + v, 0) + b.failures),
  );
  const yScale = (v: number) => (v / max) * CHART_H;
  const rows: Marker[][] = [];
  for (const m of [...s.markers].sort((a, b) => a.t - b.t)) {
    const px = x(m.t);
    const row = rows.find((r) => {
      const last = r.at(-1);
      return last === undefined || px - x(last.t) > 150;
    });
    if (row) row.push(m);
    else rows.push([m]);
  }
  const markerTop = 10;
  const chartTop = markerTop + rows.length * MARKER_ROW_H + 8;
  const axisY = chartTop + CHART_H;
  const height = axisY + 30;
  const parts: string[] = [];
  parts.push(
    `<svg class="writes" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${esc(`${s.name}: writes acknowledged per second`)}">`,
  );
  // Gap: from the last write on the old primary to the first on the new one.
  const gap = gapOf(s);
  if (gap) {
    parts.push(
      `<rect class="gap" x="${x(gap.from).toFixed(1)}" y="${chartTop}" width="${Math.max(1, x(gap.to) - x(gap.from)).toFixed(1)}" height="${CHART_H}" fill="#fed7d7"><title>${esc(`no write acknowledged for ${(gap.to - gap.from).toFixed(2)} s`)}</title></rect>`,
    );
    parts.push(
      `<text class="gap-text" x="${((x(gap.from) + x(gap.to)) / 2).toFixed(1)}" y="${chartTop + 14}" text-anchor="middle">${esc(`${(gap.to - gap.from).toFixed(1)} s without writes`)}</text>`,
    );
  }
  for (const b of s.series) {
    let y = axisY;
    const w = Math.max(1, PLOT / duration - 1);
    for (const node of Object.keys(b.acks).sort()) {
      const h = yScale(b.acks[node] ?? 0);
      y -= h;
      parts.push(
        `<rect class="bar" data-node="${esc(node)}" x="${x(b.t).toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${NODE_COLOR[node] ?? '#718096'}"><title>${esc(`t=${b.t}s: ${b.acks[node]} rows acknowledged by ${node}`)}</title></rect>`,
      );
    }
    if (b.failures > 0) {
      const h = yScale(b.failures);
      parts.push(
        `<rect class="fail" x="${x(b.t).toFixed(1)}" y="${(y - h).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="#e53e3e" opacity="0.55"><title>${esc(`t=${b.t}s: ${b.failures} failed attempts`)}</title></rect>`,
      );
    }
  }
  parts.push(
    `<line class="axis-line" x1="${LEFT}" y1="${axisY}" x2="${WIDTH - RIGHT}" y2="${axisY}" stroke="#a0aec0"/>`,
  );
  parts.push(`<text class="axis" x="${LEFT - 6}" y="${chartTop + 8}" text-anchor="end">${max}/s</text>`);
  parts.push(`<text class="axis" x="${LEFT - 6}" y="${axisY}" text-anchor="end">0</text>`);
  const step = duration <= 60 ? 10 : duration <= 150 ? 20 : 30;
  for (let t = 0; t <= duration; t += step) {
    parts.push(
      `<line class="tick" x1="${x(t).toFixed(1)}" y1="${axisY}" x2="${x(t).toFixed(1)}" y2="${axisY + 4}" stroke="#a0aec0"/>`,
    );
    parts.push(
      `<text class="axis" x="${x(t).toFixed(1)}" y="${axisY + 16}" text-anchor="middle">${t}s</text>`,
    );
  }
  rows.forEach((row, i) => {
    for (const m of row) {
      const px = x(m.t).toFixed(1);
      const color = MARKER_COLOR[m.kind];
      const ty = markerTop + i * MARKER_ROW_H + 10;
      parts.push(
        `<g class="marker" data-kind="${m.kind}"><line x1="${px}" y1="${ty + 2}" x2="${px}" y2="${axisY}" stroke="${color}" stroke-width="1" stroke-dasharray="3,3"/><text class="marker-text" x="${px}" y="${ty}" fill="${color}">${esc(m.label.slice(0, 28))}</text><title>${esc(`t=${m.t.toFixed(1)}s ${m.label}`)}</title></g>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

/** The outage as the client saw it: last ack on the old primary to first on the new, in scenario seconds. */
function gapOf(s: GameDayScenarioResult): { from: number; to: number } | undefined {
  const { gapFromSecond: from, gapToSecond: to } = s.figures;
  return typeof from === 'number' && typeof to === 'number' ? { from, to } : undefined;
}

const CSS = `${REPORT_CSS}
svg.writes { display: block; max-width: 100%; height: auto; background: #fff; }
svg .axis, svg .gap-text { font-size: 11px; fill: #4a5568; } svg .marker-text { font-size: 10px; }
dl.setup { display: grid; grid-template-columns: 120px 1fr; gap: 4px 12px; } dl.setup dt { font-weight: 600; } dl.setup dd { margin: 0; }
`;

function figure(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

function scenarioSection(s: GameDayScenarioResult): string {
  return `<section class="scenario" id="${esc(s.name)}">
<h2>${esc(s.name)} — ${esc(s.title)} <span class="${s.passed ? 'pass' : 'fail'}">${s.passed ? 'PASS' : 'FAIL'}</span></h2>
<p>${esc(s.summary)}</p>
<div class="legend"><span style="--c:${NODE_COLOR['db-a']}">acknowledged by db-a</span><span style="--c:${NODE_COLOR['db-b']}">acknowledged by db-b</span><span style="--c:#e53e3e">failed attempts</span><span style="--c:#fed7d7">no write acknowledged</span></div>
${writesSvg(s)}
<h3>Checks</h3>
<ul class="checks">${s.checks.map((c) => `<li class="${c.ok ? 'ok' : 'ko'}"><strong>${esc(c.name)}</strong>: ${esc(c.detail)}</li>`).join('')}</ul>
<h3>Measured</h3>
<table class="figures"><tbody>${Object.entries(s.figures)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td class="num">${esc(figure(v))}</td></tr>`)
    .join('')}
<tr><th>lostIds</th><td class="num">${esc(s.lostIds.length ? s.lostIds.join(', ') : 'none')}</td></tr></tbody></table>
<details><summary>Timeline (${s.timeline.length} entries)</summary><pre>${esc(s.timeline.map((e) => formatEntry(e)).join('\n'))}</pre></details>
</section>`;
}

export function renderHtml(report: GameDayReport): string {
  const passed = report.scenarios.filter((s) => s.passed).length;
  const row = (s: GameDayScenarioResult) => {
    const f = s.figures;
    return `<tr><td><a href="#${esc(s.name)}">${esc(s.name)}</a></td><td class="${s.passed ? 'pass' : 'fail'}">${s.passed ? 'PASS' : 'FAIL'}</td><td class="num">${esc(figure(f.rtoSeconds ?? f.writePauseSeconds))}</td><td class="num">${esc(figure(f.rpoRows))}</td><td class="num">${esc(figure(f.lagSecondsSeenAtPromotion))}</td><td class="num">${esc(figure(f.oldPrimaryAcksAfterFailover))}</td><td class="num">${s.checks.filter((c) => c.ok).length}/${s.checks.length}</td></tr>`;
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Failover game day: ${passed}/${report.scenarios.length} scenarios passed</title>
<style>${CSS}</style>
</head>
<body>
<h1>Failover game day</h1>
<p class="meta">Real PostgreSQL, the real automation · generated ${esc(report.generatedAt)} · ${(report.wallMs / 1000).toFixed(1)} s wall clock (synth ${(report.synthMs / 1000).toFixed(1)} s) ·
 <span class="${report.passed ? 'pass' : 'fail'}">${passed}/${report.scenarios.length} scenarios passed</span></p>
<table class="overview"><thead><tr><th>scenario</th><th>verdict</th><th>RTO / write pause (s)</th><th>lost rows</th><th>lag at promotion (s)</th><th>old primary acks after failover</th><th>checks</th></tr></thead>
<tbody>${report.scenarios.map(row).join('')}</tbody></table>
${report.scenarios.map(scenarioSection).join('\n')}
<h2>How it ran</h2>
<dl class="setup">${Object.entries(report.setup)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('')}</dl>
</body>
</html>
`;
}
