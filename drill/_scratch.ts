import { mkdirSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { renderHtml } from './report/html.ts';
import { runDrill } from './run.ts';
import { findScenario, SCENARIOS } from './scenarios/index.ts';

const names = process.argv.slice(2);
const scenarios = names.length ? names.map((n) => findScenario(n)!) : [...SCENARIOS];
const report = await runDrill({ scenarios });
mkdirSync('reports', { recursive: true });
writeFileSync('reports/drill.html', renderHtml(report));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
await page.goto(`file://${process.cwd()}/reports/drill.html`);
for (const s of scenarios) {
  const el = await page.$(`section#${s.name}`);
  await el!.screenshot({ path: `/tmp/g/${s.name}.png` });
}
await browser.close();
console.log('ok', report.passed);
