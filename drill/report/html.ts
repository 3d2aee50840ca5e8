/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched), so it
 * can be opened from disk, attached to a ticket or archived with a game day's notes.
 */
import type { DrillReport } from '../run.ts';
import type { ScenarioOutcome } from '../scenario.ts';
import { formatEntry } from '../timeline.ts';
import { REPORT_CSS } from './style.ts';
import { esc, NODE_COLORS, timelineSvg } from './svg.ts';

/** Phase colours by what the phase is: detection blue, deciding amber, database purple, traffic green, DNS teal/grey. */
function phaseColor(name: string): string {
  if (name.startsWith('detection: alarm')) return '#2c5282';
  if (name.startsWith('detection')) return '#4299e1';
  if (name.startsWith('automatic failover held')) return '#90cdf4';
  if (name === 'operator decides') return '#ecc94b';
  if (name === 'decision') return '#d69e2e';
  if (name.includes('lease')) return '#dd6b20';
  if (name === 'fence' || name === 'fence and promote') return '#805ad5';
  if (name === 'promote') return '#553c9a';
  if (name.includes('catch-up') || name.includes('lag check')) return '#b794f4';
  if (name === 'traffic shift') return '#38a169';
  if (name === 'DNS propagation') return '#319795';
  if (name === 'DNS TTL') return '#a0aec0';
  return '#718096';
}

const CSS = `${REPORT_CSS}
.summary { color: #2d3748; margin: 4px 0 10px; }
svg.timeline { display: block; max-width: 100%; height: auto; background: #fff; }
svg .lane-label, svg .axis { font-size: 11px; fill: #4a5568; }
svg .lane-text { font-size: 10px; fill: #fff; font-weight: 600; }
svg .marker-text { font-size: 10px; }
svg .budget-text { font-size: 10px; fill: #c53030; }
svg .grid { stroke: #e2e8f0; } svg .axis-line, svg .tick { stroke: #a0aec0; }
svg .budget-line { stroke-dasharray: 6,4; stroke-width: 1.5; }
svg .lag-line { stroke-width: 2; }
.rto { display: flex; height: 22px; border-radius: 3px; overflow: hidden; margin: 6px 0 2px; background: #edf2f7; }
.rto div { height: 100%; min-width: 2px; }
figure.timeline-figure { margin: 0; padding: 10px 12px; background: #fff; }
figcaption { font-size: 14px; margin: 0 0 6px; color: #2d3748; }
dl.model { display: grid; grid-template-columns: 160px 1fr; gap: 4px 12px; } dl.model dt { font-weight: 600; } dl.model dd { margin: 0; }
`;

export function renderHtml(report: DrillReport): string {
  const passedCount = report.scenarios.filter((s) => s.passed).length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Failover drill: ${passedCount}/${report.scenarios.length} scenarios passed</title>
<style>${CSS}</style>
</head>
<body>
<h1>Failover drill</h1>
<p class="meta">${report.mode === 'simulated' ? 'Simulated environment (modelled latencies, real handler and state machine)' : `Real AWS APIs at ${esc(report.endpoint ?? '')}`}
 · generated ${esc(report.generatedAt)} · ${(report.wallMs / 1000).toFixed(1)} s wall clock ·
 <span class="${report.passed ? 'pass' : 'fail'}">${passedCount}/${report.scenarios.length} scenarios passed</span></p>
${overview(report.scenarios)}
${report.scenarios.map(scenarioSection).join('\n')}
<h2>What the figures assume</h2>
<dl class="model">${Object.entries(report.model)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('')}</dl>
<p class="meta">The failover handler, the decision, the state machine (synthesized from the CDK app) and the step handler are the project's real code. Around them the drill simulates the nodes, CloudWatch's alarm evaluation, EventBridge delivery, the replication lag metrics and Route 53 propagation.</p>
</body>
</html>
`;
}

function overview(scenarios: readonly ScenarioOutcome[]): string {
  const rows = scenarios
    .map((s) => {
      const r = s.recovery;
      return `<tr><td><a href="#${esc(s.name)}">${esc(s.name)}</a></td><td>${esc(outcomeText(s))}</td><td class="num">${
        r ? `${(r.totalMs / 1000).toFixed(1)} s` : '—'
      }</td><td class="num">${r ? (r.rpoSeconds === undefined ? 'unknown' : `${r.rpoSeconds} s`) : '—'}</td><td class="${
        s.passed ? 'pass' : 'fail'
      }">${s.checks.filter((c) => c.ok).length}/${s.checks.length}</td></tr>`;
    })
    .join('');
  return `<table class="overview"><thead><tr><th>scenario</th><th>outcome</th><th>RTO</th><th>RPO bound</th><th>checks</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function outcomeText(s: ScenarioOutcome): string {
  const holds = s.invocations.filter((i) => i.result?.outcome === 'held').map((i) => i.result?.reason);
  const unique = [...new Set(holds)];
  return `primary ${s.primary} at epoch ${s.epoch}, traffic on ${s.traffic ?? 'no single node'}${
    unique.length ? `; holds: ${unique.join(', ')}` : ''
  }`;
}

function scenarioSection(s: ScenarioOutcome): string {
  const legend = [
    ...s.nodes.map((n, i) => `<span style="--c:${NODE_COLORS[i % NODE_COLORS.length]}">${esc(n)}</span>`),
    '<span style="--c:#48bb78">up</span>',
    '<span style="--c:#e53e3e">down</span>',
    '<span style="--c:#c53030">alarm in ALARM (thin bar)</span>',
    '<span style="--c:repeating-linear-gradient(45deg,#4a5568 0 2px,transparent 2px 5px)">fenced</span>',
    ...(s.router.type === 'route53'
      ? [
          '<span style="--c:repeating-linear-gradient(45deg,#718096 0 3px,#e2e8f0 3px 6px)">clients converging (DNS)</span>',
        ]
      : []),
    '<span style="--c:#e53e3e">lag budget (dashed)</span>',
  ].join('');
  return `<section class="scenario" id="${esc(s.name)}">
<h2>${esc(s.title)} <span class="${s.passed ? 'pass' : 'fail'}">${s.passed ? 'passed' : 'FAILED'}</span></h2>
<p class="summary">${esc(s.summary)}</p>
<p class="meta">service <code>${esc(s.serviceId)}</code> · ${esc(routerText(s))} · lag budget ${s.maxLagSeconds} s · cooldown ${s.cooldownSeconds} s · ${esc(outcomeText(s))}</p>
<figure class="timeline-figure">
<figcaption><b>${esc(s.title)}</b> · <code>npm run drill -- ${esc(s.name)}</code> · ${esc(routerText(s))} · ${
    s.durationSeconds
  } simulated seconds</figcaption>
<div class="legend">${legend}</div>
${timelineSvg(s)}
${recoverySection(s)}
</figure>
${nodeActionsSection(s)}
<h3>Checks</h3>
<ul class="checks">${s.checks.map((c) => `<li class="${c.ok ? 'ok' : 'ko'}">${esc(c.name)}: ${esc(c.detail)}</li>`).join('')}</ul>
<details><summary>Timeline (${s.timeline.length} entries)</summary><pre>${esc(s.timeline.map((e) => formatEntry(e)).join('\n'))}</pre></details>
</section>`;
}

/** Services with node actions: every call (role, node, token, what came of it) and the writer check. */
function nodeActionsSection(s: ScenarioOutcome): string {
  const a = s.nodeActions;
  if (!a) return '';
  const rows = a.calls
    .map(
      (c) =>
        `<tr><td>${c.at.toFixed(1)} s</td><td>${esc(c.role)}</td><td>${esc(c.nodeId)}</td><td>${c.token}</td><td>${esc(c.outcome)}${c.applied ? '' : ' (no effect)'}</td></tr>`,
    )
    .join('');
  return `<h3>Node actions</h3>
<table class="overview node-actions"><thead><tr><th>at</th><th>action</th><th>node</th><th>token</th><th>outcome</th></tr></thead><tbody>${rows}</tbody></table>
<p class="meta">writers checked ${a.writerChecks} times (every simulated second and after every action): at most ${a.maxWriters} at once${
    a.splitBrain.length
      ? `; SPLIT BRAIN at ${a.splitBrain.map((b) => `${b.t} s (${b.writers.join(', ')})`).join(', ')}`
      : ''
  }; accepting writes at the end: ${esc(a.writersAtEnd.join(', ') || 'none')}</p>`;
}

function routerText(s: ScenarioOutcome): string {
  if (s.router.type === 'route53') return `Route 53 ${s.router.record ?? ''} (TTL ${s.router.ttlSeconds} s)`;
  return s.router.type === 'elbv2-weighted' ? 'ALB weighted listener' : 'ELB target group';
}

function recoverySection(s: ScenarioOutcome): string {
  const r = s.recovery;
  if (!r)
    return '<h3>Recovery</h3><p>No role change: the service stayed on its primary (see the holds in the timeline).</p>';
  const total = Math.max(
    1,
    r.phases.reduce((a, p) => a + p.ms, 0),
  );
  const bar = r.phases
    .map(
      (p) =>
        `<div class="phase" style="width:${((p.ms / total) * 100).toFixed(2)}%;background:${phaseColor(p.name)}" title="${esc(
          `${p.name}: ${(p.ms / 1000).toFixed(2)} s`,
        )}"></div>`,
    )
    .join('');
  const rows = r.phases
    .map(
      (p) =>
        `<tr><td><span style="display:inline-block;width:10px;height:10px;background:${phaseColor(p.name)};margin-right:6px"></span>${esc(
          p.name,
        )}</td><td class="num">${(p.ms / 1000).toFixed(p.ms < 10_000 ? 2 : 1)} s</td><td>${esc(p.note ?? '')}</td></tr>`,
    )
    .join('');
  return `<h3>Recovery: RTO ${(r.totalMs / 1000).toFixed(1)} s, RPO bound ${
    r.rpoSeconds === undefined ? 'unknown' : `${r.rpoSeconds} s`
  }</h3>
<p class="meta">From the ${esc(r.from)} (t=${r.startAt.toFixed(1)} s) to every client on the new primary, worst case. RPO: ${esc(r.rpoNote)}.</p>
<div class="rto">${bar}</div>
<table class="phases"><tbody>${rows}<tr><th>total</th><td class="num"><b>${(r.totalMs / 1000).toFixed(1)} s</b></td><td></td></tr></tbody></table>`;
}
