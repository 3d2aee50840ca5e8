/**
 * The style both self-contained HTML reports share (the drill's and the game day's): page, tables,
 * verdicts, check lists, legends, details. Each report adds the rules of its own charts.
 */
export const REPORT_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a202c; margin: 24px auto; max-width: 1060px; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 4px; } h3 { font-size: 14px; margin: 14px 0 6px; }
.meta { color: #4a5568; margin: 0 0 16px; }
.pass { color: #276749; font-weight: 600; } .fail { color: #c53030; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
th { background: #f7fafc; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
section.scenario { border-top: 2px solid #e2e8f0; margin-top: 28px; }
ul.checks { list-style: none; padding: 0; margin: 4px 0; } ul.checks li::before { margin-right: 6px; }
ul.checks li.ok::before { content: "✔"; color: #276749; } ul.checks li.ko::before { content: "✘"; color: #c53030; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: #4a5568; margin: 4px 0 8px; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: -1px; background: var(--c); }
details { margin: 8px 0; } summary { cursor: pointer; color: #2b6cb0; }
pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: #f7fafc; padding: 10px; overflow-x: auto; white-space: pre; }
`;
