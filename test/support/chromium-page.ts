/**
 * One self-contained HTML report opened in a real browser (Debian's Chromium, headless, driven by
 * playwright-core), for the report suites of `npm run test:browser`. The page records every request
 * it makes and every console or page error, so a suite can assert the report fetches nothing and
 * logs nothing.
 *
 * Without Chromium at /usr/bin/chromium (or without what `prepare` needs) every test of the suite
 * FAILS with the install hint: `ready()` throws it. Never a skip.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The few DOM members the checks use (tsconfig has no DOM lib: this code runs in the page). */
export interface El {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { readonly width: number; readonly height: number };
  getBBox(): { readonly width: number; readonly height: number };
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
}

export interface ReportPage {
  /** The open page; only valid after `ready()`. */
  readonly page: Page;
  /** Every URL the page requested, in order. */
  readonly requests: readonly string[];
  /** Console errors and uncaught page errors. */
  readonly consoleErrors: readonly string[];
  /** Throws the reason the page could not be opened (missing Chromium, missing input). */
  ready(): void;
  /** Asserts the page fetched nothing but its own file and logged no error. */
  expectSelfContained(): void;
  /** The trimmed text of every cell of every row `selector` matches (e.g. `table.x tbody tr`). */
  tableRows(selector: string): Promise<string[][]>;
}

/**
 * Registers beforeAll/afterAll hooks that write the HTML `render()` returns to a temporary file and
 * open it in headless Chromium at 1100x900. `render` may return an Error instead of HTML when its
 * own input is missing: every test then fails with that error.
 */
export function useReportPage(
  name: string,
  render: () => Promise<string | Error> | string | Error,
): ReportPage {
  let browser: Browser | undefined;
  let page: Page | undefined;
  let missing: Error | undefined;
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      missing = new Error(
        `Chromium is not installed at ${CHROMIUM}: this suite needs a real browser. Install it with ` +
          '`apt-get update && apt-get install -y chromium` (Debian/Ubuntu), then run `npm run test:browser` again.',
      );
      return;
    }
    const html = await render();
    if (html instanceof Error) {
      missing = html;
      return;
    }
    const file = join(mkdtempSync(join(tmpdir(), `${name}-report-`)), `${name}.html`);
    writeFileSync(file, html);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`file://${file}`, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
  });

  return {
    get page(): Page {
      if (!page) throw missing ?? new Error('the report page is not open yet');
      return page;
    },
    requests,
    consoleErrors,
    ready(): void {
      if (missing) throw missing;
    },
    expectSelfContained(): void {
      if (missing) throw missing;
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      expect(requests).toHaveLength(1);
      expect(consoleErrors).toEqual([]);
    },
    async tableRows(selector: string): Promise<string[][]> {
      if (missing) throw missing;
      return this.page.$$eval(selector, (trs) =>
        (trs as unknown as El[]).map((tr) =>
          Array.from(tr.querySelectorAll('td')).map((td) => td.textContent?.trim() ?? ''),
        ),
      );
    },
  };
}
