import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page, type Response } from 'playwright-core';
import { tempDir } from '../helpers/engines.js';

/** Waits (on the page's own events, no sleeps) until `locator` shows text matching `re`. */
export async function waitForText(locator: Locator, re: RegExp, timeout = 30_000): Promise<string> {
  try {
    await locator.filter({ hasText: re }).first().waitFor({ state: 'visible', timeout });
  } catch (err) {
    // what the page showed instead, for the report
    fs.mkdirSync(SHOTS, { recursive: true });
    await locator.page().screenshot({ path: path.join(SHOTS, `failed-${Date.now()}.png`), fullPage: true });
    const seen = await locator.allTextContents().catch(() => []);
    throw new Error(`${(err as Error).message}\nThe page showed: ${JSON.stringify(seen.slice(0, 5))}`);
  }
  return (await locator.filter({ hasText: re }).first().textContent()) ?? '';
}

/**
 * Debian's Chromium (never a downloaded browser), headless, with a fresh profile of its own.
 * CUTTLE_CHROMIUM overrides the path.
 */
export const CHROMIUM = process.env.CUTTLE_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every answer the portal received (URL, status, body), for the secret canaries. */
  answers: { url: string; status: number; body: string }[];
  close(): Promise<void>;
}

export async function openBrowser(opts: { width?: number; height?: number } = {}): Promise<Browser> {
  const profile = tempDir('chromium-profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 },
  });
  context.setDefaultTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const answers: Browser['answers'] = [];
  const pending: Promise<void>[] = [];
  context.on('response', (r: Response) => {
    if (r.headers()['content-type']?.includes('event-stream')) return; // streams are read in the page
    pending.push(
      r
        .text()
        .then((body) => {
          answers.push({ url: r.url(), status: r.status(), body });
        })
        .catch(() => {}),
    );
  });
  return {
    context,
    page,
    answers,
    async close() {
      await Promise.allSettled(pending);
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/app`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** axe-core in the page: the serious and critical violations (there must be none). */
export async function axeViolations(page: Page): Promise<string[]> {
  const source = fs.readFileSync(
    path.resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js'),
    'utf8',
  );
  await page.evaluate(source);
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
    violations: { id: string; impact: string; nodes: { target: string[] }[]; help: string }[];
  };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} (${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')})`,
    );
}

/** Elements that stick out of the viewport sideways (outside any scrolling container). */
// A string, not a function: tsx would add its __name helper to a function, which the page lacks.
const OVERFLOW_SCRIPT = `(() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if ((r.right > width + 1 || r.left < -1) && !clipped(el)) {
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
      out.push(el.tagName.toLowerCase() + cls + ' (' + Math.round(r.left) + '..' + Math.round(r.right) + ' > ' + width + ')');
    }
  }
  if (document.documentElement.scrollWidth > width + 1) out.push('page scrollWidth ' + document.documentElement.scrollWidth + ' > ' + width);
  return out.slice(0, 10);
})()`;

/** Elements that stick out of the viewport sideways (outside any scrolling container). */
export async function horizontalOverflow(page: Page): Promise<string[]> {
  return (await page.evaluate(OVERFLOW_SCRIPT)) as string[];
}

/** Screenshots go to test-results/screenshots (git-ignored). */
export const SHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');

export async function checkPage(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  assert.deepEqual(await horizontalOverflow(page), [], `${name} at ${width} px overflows`);
  assert.deepEqual(await axeViolations(page), [], `${name} at ${width} px: accessibility`);
}
