/**
 * One scenario as an inline SVG timeline, x = simulated seconds:
 * - a health band per node (up / down, its alarm in ALARM, fenced), from the per-second samples;
 * - where traffic points (the router) and where every client goes (hatched while DNS converges);
 * - each replica's true lag, its published datapoints, and the recovery-point budget line;
 * - markers for the crash, every decision (failover, hold, ignored) and the operator's workflows.
 * Plain SVG with <title> tooltips: no script, no external resource.
 */
import type { Marker, ScenarioOutcome, SeriesSample } from '../scenario.ts';

export const NODE_COLORS = ['#2b6cb0', '#805ad5', '#0f9a9a', '#b7791f', '#d53f8c', '#4a5568'];
const UP = '#48bb78';
const DOWN = '#e53e3e';
const ALARM = '#c53030';
const BUDGET = '#e53e3e';

const WIDTH = 1000;
const LEFT = 120;
const RIGHT = 20;
const PLOT = WIDTH - LEFT - RIGHT;
const ROW = 20;
const GAP = 6;
const MARKER_ROWS = 6;
const MARKER_ROW_H = 14;
const LAG_H = 130;

const MARKER_COLORS: Record<string, string> = {
  failover: '#2f855a',
  hold: '#dd6b20',
  ignored: '#718096',
  workflow: '#6b46c1',
  step: '#6b46c1',
  fault: '#c53030',
};

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Runs of consecutive samples with the same key: [start, end) in seconds. */
function runs(samples: readonly SeriesSample[], key: (s: SeriesSample) => string | undefined, end: number) {
  const out: { from: number; to: number; value: string }[] = [];
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const value = key(s);
    if (value === undefined) continue;
    const to = samples[i + 1]?.t ?? end;
    const last = out[out.length - 1];
    if (last && last.value === value && Math.abs(last.to - s.t) < 1e-9) last.to = to;
    else out.push({ from: s.t, to, value });
  }
  return out;
}

function tickStep(duration: number): number {
  return duration <= 60 ? 10 : duration <= 150 ? 20 : duration <= 300 ? 30 : 60;
}

export function timelineSvg(o: ScenarioOutcome): string {
  // Pattern ids are document-wide: one set per scenario keeps the page's ids unique.
  const hatch = `hatch-${o.name}`;
  const converging = `converging-${o.name}`;
  const duration = o.durationSeconds;
  const x = (t: number) => LEFT + (Math.max(0, Math.min(duration, t)) / duration) * PLOT;
  const colorOf = (node: string) => NODE_COLORS[o.nodes.indexOf(node) % NODE_COLORS.length] ?? '#4a5568';
  const parts: string[] = [];
  let y = 4;

  // ---- markers (labels in staggered rows at the top) ----
  const markerTop = y;
  const placed = placeMarkers(o.markers, x);
  const markerRows = Math.max(1, ...placed.map((m) => m.row + 1));
  y += markerRows * MARKER_ROW_H + 4;
  const lanesTop = y;

  // ---- health bands ----
  const healthParts: string[] = [];
  for (const node of o.nodes) {
    healthParts.push(
      `<text class="lane-label" x="${LEFT - 8}" y="${y + ROW - 6}" text-anchor="end">${esc(node)}</text>`,
    );
    for (const r of runs(o.series, (s) => (s.nodes[node]?.up ? 'up' : 'down'), duration)) {
      const w = Math.max(0.5, x(r.to) - x(r.from));
      healthParts.push(
        `<rect class="health-band ${r.value}" data-node="${esc(node)}" x="${x(r.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 8}" fill="${r.value === 'up' ? UP : DOWN}"><title>${esc(node)} ${r.value} ${r.from}-${r.to} s</title></rect>`,
      );
    }
    for (const r of runs(
      o.series,
      (s) => (s.nodes[node]?.alarm === 'ALARM' ? 'ALARM' : undefined),
      duration,
    )) {
      healthParts.push(
        `<rect class="alarm-band" data-node="${esc(node)}" x="${x(r.from).toFixed(1)}" y="${y + ROW - 7}" width="${Math.max(0.5, x(r.to) - x(r.from)).toFixed(1)}" height="4" fill="${ALARM}"><title>alarm of ${esc(node)} in ALARM ${r.from}-${r.to} s</title></rect>`,
      );
    }
    for (const r of runs(o.series, (s) => (s.nodes[node]?.fenced ? 'fenced' : undefined), duration)) {
      healthParts.push(
        `<rect class="fenced-band" data-node="${esc(node)}" x="${x(r.from).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(r.to) - x(r.from)).toFixed(1)}" height="${ROW - 8}" fill="url(#${hatch})"><title>${esc(node)} fenced ${r.from}-${r.to} s</title></rect>`,
      );
    }
    y += ROW;
  }
  parts.push(`<g class="health">${healthParts.join('')}</g>`);
  y += GAP;

  // ---- traffic ----
  const trafficParts: string[] = [];
  const lane = (label: string, cls: string, key: (s: SeriesSample) => string | undefined) => {
    trafficParts.push(
      `<text class="lane-label" x="${LEFT - 8}" y="${y + ROW - 4}" text-anchor="end">${label}</text>`,
    );
    for (const r of runs(o.series, key, duration)) {
      const isConverging = r.value === 'converging';
      const w = Math.max(0.5, x(r.to) - x(r.from));
      trafficParts.push(
        `<rect class="${cls}" data-node="${esc(r.value)}" x="${x(r.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 4}" fill="${isConverging ? `url(#${converging})` : colorOf(r.value)}"><title>${label}: ${esc(isConverging ? 'DNS caches converging' : r.value)} ${r.from}-${r.to} s</title></rect>`,
      );
      if (!isConverging && w > 34) {
        trafficParts.push(
          `<text class="lane-text" x="${(x(r.from) + 5).toFixed(1)}" y="${y + ROW - 8}">${esc(r.value)}</text>`,
        );
      }
    }
    y += ROW;
  };
  lane('traffic', 'traffic-lane', (s) => s.routedTo);
  if (o.router.type === 'route53') lane('clients', 'clients-lane', (s) => s.clients);
  parts.push(`<g class="traffic">${trafficParts.join('')}</g>`);
  y += GAP * 2;

  // ---- lag chart ----
  const lagTop = y;
  const allLag = o.series.flatMap((s) => Object.values(s.nodes).map((n) => n.lag ?? 0));
  const yMax = niceMax(Math.max(o.maxLagSeconds * 1.5, ...allLag, 1) * 1.1);
  const ly = (v: number) => lagTop + LAG_H - (v / yMax) * LAG_H;
  const lagParts: string[] = [];
  lagParts.push(
    `<text class="lane-label" x="${LEFT - 36}" y="${lagTop + LAG_H / 2}" text-anchor="end">replica</text>`,
    `<text class="lane-label" x="${LEFT - 36}" y="${lagTop + LAG_H / 2 + 13}" text-anchor="end">lag (s)</text>`,
  );
  for (const v of [0, yMax / 2, yMax]) {
    lagParts.push(
      `<line class="grid" x1="${LEFT}" x2="${LEFT + PLOT}" y1="${ly(v).toFixed(1)}" y2="${ly(v).toFixed(1)}"/>`,
      `<text class="axis" x="${LEFT - 8}" y="${(ly(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  lagParts.push(
    `<line class="budget-line" x1="${LEFT}" x2="${LEFT + PLOT}" y1="${ly(o.maxLagSeconds).toFixed(1)}" y2="${ly(o.maxLagSeconds).toFixed(1)}" stroke="${BUDGET}"><title>recovery-point budget ${o.maxLagSeconds} s</title></line>`,
    `<text class="budget-text" x="${LEFT + PLOT - 4}" y="${(ly(o.maxLagSeconds) - 4).toFixed(1)}" text-anchor="end">budget ${o.maxLagSeconds} s</text>`,
  );
  for (const node of o.nodes) {
    const segments: string[][] = [];
    let current: string[] = [];
    for (const s of o.series) {
      const lag = s.nodes[node]?.lag;
      if (lag === undefined) {
        if (current.length) segments.push(current);
        current = [];
        continue;
      }
      current.push(`${x(s.t).toFixed(1)},${ly(lag).toFixed(1)}`);
    }
    if (current.length) segments.push(current);
    for (const seg of segments) {
      const points =
        seg.length === 1 ? [seg[0]!, seg[0]!.replace(/^[\d.]+/, (v) => String(Number(v) + 1))] : seg;
      lagParts.push(
        `<polyline class="lag-line" data-node="${esc(node)}" fill="none" stroke="${colorOf(node)}" points="${points.join(' ')}"><title>${esc(node)} replication lag</title></polyline>`,
      );
    }
    for (const p of o.lagDatapoints[node] ?? []) {
      lagParts.push(
        `<circle class="lag-point" data-node="${esc(node)}" cx="${x(p.t).toFixed(1)}" cy="${ly(p.lag).toFixed(1)}" r="2.5" fill="${colorOf(node)}"><title>${esc(node)} datapoint ${p.lag} s at t=${p.t} s</title></circle>`,
      );
    }
  }
  parts.push(`<g class="lag">${lagParts.join('')}</g>`);
  y = lagTop + LAG_H + 8;

  // ---- x axis ----
  const axis: string[] = [`<line class="axis-line" x1="${LEFT}" x2="${LEFT + PLOT}" y1="${y}" y2="${y}"/>`];
  const step = tickStep(duration);
  for (let t = 0; t <= duration + 1e-9; t += step) {
    axis.push(
      `<line class="tick" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${y}" y2="${y + 4}"/>`,
      `<text class="axis" x="${x(t).toFixed(1)}" y="${y + 16}" text-anchor="middle">${t}s</text>`,
    );
  }
  parts.push(`<g class="x-axis">${axis.join('')}</g>`);
  const bottom = y + 22;

  // ---- markers over everything ----
  const markerParts: string[] = [];
  for (const m of placed) {
    const mx = x(m.t).toFixed(1);
    const color = MARKER_COLORS[m.kind] ?? '#4a5568';
    const ty = markerTop + (m.row + 1) * MARKER_ROW_H - 3;
    const dx = m.anchor === 'end' ? -3 : 3;
    markerParts.push(
      `<g class="marker ${m.kind}"><title>t=${m.t.toFixed(1)} s ${esc(m.label)}</title>` +
        `<line x1="${mx}" x2="${mx}" y1="${ty + 2}" y2="${bottom - 22}" stroke="${color}" stroke-dasharray="${m.kind === 'hold' || m.kind === 'ignored' ? '2,3' : '0'}"/>` +
        `<circle cx="${mx}" cy="${ty - 4}" r="3.5" fill="${color}"/>` +
        `<text class="marker-text" x="${(Number(mx) + dx).toFixed(1)}" y="${ty}" fill="${color}" text-anchor="${m.anchor}">${esc(m.label)}</text></g>`,
    );
  }

  const height = bottom + 4;
  return [
    `<svg class="timeline" data-scenario="${esc(o.name)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${esc(`${o.title}: timeline`)}">`,
    '<defs>',
    `<pattern id="${hatch}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="none"/><line x1="0" y1="0" x2="0" y2="6" stroke="#1a202c" stroke-width="2" opacity="0.45"/></pattern>`,
    `<pattern id="${converging}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#e2e8f0"/><line x1="0" y1="0" x2="0" y2="8" stroke="#718096" stroke-width="3"/></pattern>`,
    '</defs>',
    `<rect class="plot-bg" x="${LEFT}" y="${lanesTop - 2}" width="${PLOT}" height="${bottom - 22 - lanesTop + 2}" fill="#fafafa"/>`,
    ...parts,
    `<g class="markers">${markerParts.join('')}</g>`,
    '</svg>',
  ].join('');
}

interface PlacedMarker extends Marker {
  readonly row: number;
  readonly anchor: 'start' | 'end';
}

/**
 * Same-label markers within a few seconds become one ("x3"); each label goes to the first row
 * where it does not overlap an earlier one (labels are ~5.6 px per character at 10 px).
 */
function placeMarkers(markers: readonly Marker[], x: (t: number) => number): PlacedMarker[] {
  const merged: { t: number; kind: Marker['kind']; label: string; n: number }[] = [];
  for (const m of [...markers].sort((a, b) => a.t - b.t)) {
    const last = merged.at(-1);
    const same = merged.find((p) => p.label === m.label && m.t - p.t < 3);
    if (same) same.n++;
    // A workflow's steps a few seconds apart read as one sequence: "fence db-a · promote db-b · shift".
    else if (last && last.kind === 'step' && m.kind === 'step' && m.t - last.t < 4)
      last.label += ` · ${m.label}`;
    else merged.push({ ...m, n: 1 });
  }
  const rows: [number, number][][] = Array.from({ length: MARKER_ROWS }, () => []);
  const placed: PlacedMarker[] = [];
  for (const m of merged) {
    const label = m.n > 1 ? `${m.label} x${m.n}` : m.label;
    const width = label.length * 5.6 + 8;
    const px = x(m.t);
    const anchor: 'start' | 'end' = px + width > LEFT + PLOT + RIGHT ? 'end' : 'start';
    const span: [number, number] = anchor === 'start' ? [px, px + width] : [px - width, px];
    const overlap = (taken: [number, number][]) =>
      taken.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, span[1]) - Math.max(a, span[0])), 0);
    let row = rows.findIndex((taken) => overlap(taken) === 0);
    // Crowded: the row where the label overlaps least.
    if (row < 0) row = rows.map(overlap).reduce((best, o, i, all) => (o < all[best]! ? i : best), 0);
    rows[row]!.push(span);
    placed.push({ t: m.t, kind: m.kind, label, row, anchor });
  }
  return placed;
}

function niceMax(v: number): number {
  const steps = [1, 2, 5, 10];
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const s of steps) if (s * mag >= v) return s * mag;
  return 10 * mag;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
