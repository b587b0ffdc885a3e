/**
 * The console in a real headless Chromium against the real system (test/support/system.ts): a quota
 * admin reads the tenant's 30 days and changes a user's budget with a reason, seen at once in the table
 * and the audit trail; a viewer gets only their own budget (and the admin API stays FORBIDDEN); the
 * explorer prices an operation while it is typed, before anything runs, then shows what it billed;
 * and no view has a serious accessibility violation (axe-core). Screenshots: test-output/console/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { createFileStore } from '../../budgets/fileStore';
import { createMemoryLedger } from '../../budgets/memoryLedger';
import type { BudgetLedger } from '../../budgets/ledger';
import type { BudgetStore } from '../../budgets/store';
import type { Principal } from '../../common/principal';
import { GiB } from '../../common/units';
import { type System, seedDataDir, startSystem } from '../support/system';
import { launchBrowser, newPage, screenshot, seriousAccessibilityViolations } from './browser';

const DAY_MS = 86_400_000;
const isoDay = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);

let system: System;
let browser: Browser;
let origin: string;
let cleanUp: () => Promise<void>;
let people: string[];
/** The ledger's clock runs this far behind, to charge operations to earlier budget days. */
let ledgerLagMs = 0;

const DASHBOARD = `query Dashboard($from: Date!, $to: Date!) { tenant { name topTimeWasters(from: $from, to: $to, first: 5) { totalWasteHours user { id } } } }`;

beforeAll(async () => {
  const seeded = await seedDataDir([{ tenant: 'acme', users: 30, days: 30, eventsPerUser: 20, start: isoDay(29), seed: 4 }]);
  const budgetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-console-budgets-'));
  const budgets: { store: BudgetStore; ledger: BudgetLedger } = { store: await createFileStore({ dir: budgetsDir }), ledger: createMemoryLedger({ now: () => Date.now() - ledgerLagMs }) };
  system = await startSystem(seeded.dataDir, { gateway: { budgets } });
  origin = new URL(system.gatewayUrl).origin;
  browser = await launchBrowser();
  cleanUp = async () => {
    await browser.close();
    await system.close();
    await Promise.all([budgets.store.close(), budgets.ledger.close()]);
    fs.rmSync(budgetsDir, { recursive: true, force: true });
    seeded.remove();
  };
  const directory = await system.query(as('executive', 'any'), '{ users(first: 10) { edges { node { id } } } }');
  people = directory.body.data.users.edges.map((e: { node: { id: string } }) => e.node.id);
  // Spend on two budget days: three days ago (two people) and today (three).
  const range = { from: isoDay(29), to: isoDay(0) };
  ledgerLagMs = 3 * DAY_MS;
  for (const person of people.slice(0, 2)) expect((await system.query(as('executive', person), DASHBOARD, range, { 'cache-control': 'no-cache' })).status).toBe(200);
  ledgerLagMs = 0;
  for (const person of people.slice(1, 4)) expect((await system.query(as('executive', person), DASHBOARD, range, { 'cache-control': 'no-cache' })).status).toBe(200);
}, 120_000);

afterAll(() => cleanUp?.());

function as(role: Principal['roles'][number], userId: string): Principal {
  return { tenant: 'acme', userId, roles: [role] };
}

/** Opens the console through its development sign-in link, as `npm start` prints it. */
async function signedIn(role: string, user: string, view: string): Promise<{ page: Page; problems: string[] }> {
  const opened = await newPage(browser);
  await opened.page.goto(`${origin}/console/?sign-in=${role}&tenant=acme&user=${user}${view}`, { waitUntil: 'networkidle0' });
  return opened;
}

async function textOf(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(selector);
  return page.$eval(selector, (element) => (element as unknown as { textContent: string }).textContent.trim());
}

test('a quota admin sees the 30-day chart drawn with data, sets a user budget with a reason, and sees it in the table and the audit trail at once', async () => {
  const admin = people[5];
  const target = people[1];
  const { page, problems } = await signedIn('quota-admin', admin, '#/overview');
  const chart = await page.waitForSelector('.chart-canvas canvas');
  expect(chart).not.toBeNull();
  const drawn = await page.$eval('.chart-canvas', (element) => ({ days: Number(element.getAttribute('data-days')), total: Number(element.getAttribute('data-total')) }));
  expect(drawn.days).toBe(30);
  expect(drawn.total).toBeGreaterThan(0);
  // Both budget days that were charged have a bar's worth of bytes in the table behind the chart.
  const rows = await page.$$eval('.chart details tbody tr', (trs) => trs.map((tr) => [tr.children[0].textContent, tr.children[1].getAttribute('title')]));
  const billed = Object.fromEntries(rows.map(([day, title]) => [day, Number(String(title).split(' ')[0])]));
  expect(billed[isoDay(3)]).toBeGreaterThan(0);
  expect(billed[isoDay(0)]).toBeGreaterThan(0);
  expect(billed[isoDay(1)]).toBe(0);
  await screenshot(page, 'quota-admin-overview');

  await page.click('a[href="#/users"]');
  await page.waitForSelector(`tr[data-user="${target}"]`);
  await page.click(`tr[data-user="${target}"] button`);
  await page.waitForSelector('#user-daily');
  await page.type('#user-daily', '2 GiB');
  await page.type('#user-reason', 'Quarter-end reporting');
  await page.click('.detail form.budget-form button[type="submit"]');
  await page.waitForFunction((id) => {
    const row = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(`tr[data-user="${id}"] [data-field="source"]`);
    return row?.textContent === 'override';
  }, {}, target);
  expect(await textOf(page, `tr[data-user="${target}"] [data-field="limit"]`)).toBe('2 GiB');
  await screenshot(page, 'quota-admin-users');
  // The gateway applies it: the user's own budget says so.
  expect((await system.query(as('viewer', target), '{ myBudget { dailyLimitBytes } }')).body.data.myBudget.dailyLimitBytes).toBe(2 * GiB);

  await page.click('a[href="#/audit"]');
  await page.waitForSelector('table.audit tbody tr');
  await page.type('#audit-filter', 'quarter-end');
  const audit = await page.$$eval('table.audit tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  expect(audit).toHaveLength(1);
  expect(audit[0]).toEqual([expect.any(String), admin, target, 'setBudget', expect.stringContaining(String(2 * GiB)), 'Quarter-end reporting']);
  await screenshot(page, 'quota-admin-audit');
  expect(problems).toEqual([]);
  await page.close();
});

test('a viewer gets their own budget and the explorer, no admin view, and the admin API stays FORBIDDEN', async () => {
  const { page, problems } = await signedIn('viewer', people[2], '#/overview');
  expect(await page.$$eval('nav[aria-label="Views"] a', (links) => links.map((a) => a.textContent))).toEqual(['My budget', 'Explorer']);
  expect(await textOf(page, 'main h1')).toBe('My budget today'); // #/overview is not theirs: their first view instead
  await page.waitForSelector('.budget dl');
  const answer = await page.evaluate(async () => {
    const { sessionStorage } = globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } };
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sessionStorage.getItem('bytegate.token')}` },
      body: JSON.stringify({ query: '{ budgetUsers { usedBytes } }' }),
    });
    return (await response.json()) as { errors: { extensions: { code: string } }[] };
  });
  expect(answer.errors[0].extensions.code).toBe('FORBIDDEN');
  await screenshot(page, 'viewer-budget');
  expect(problems).toEqual([]);
  await page.close();
});

test('the explorer prices the operation while it is typed, running nothing, then shows what it billed beside the estimate', async () => {
  const { page, problems } = await signedIn('executive', people[3], '#/explorer');
  const estimated = () => page.$eval('[data-field="estimatedBytes"] [data-bytes]', (element) => Number(element.getAttribute('data-bytes')));
  await page.waitForSelector('[data-field="estimatedBytes"] [data-bytes]');
  const first = await estimated();
  const ranBefore = system.warehouseQueries.length;
  const heavier = `query Wasters { tenant { topTimeWasters(from: "${isoDay(29)}", to: "${isoDay(0)}", first: 10) { totalWasteHours user { displayName productivity(from: "${isoDay(29)}", to: "${isoDay(0)}") { totalEvents } } } } }`;
  await page.evaluate((text) => {
    const { document } = globalThis as unknown as { document: { querySelector(s: string): { CodeMirror: { setValue(v: string): void } } } };
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text);
  }, heavier);
  await page.waitForFunction((before) => {
    const { document } = globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } };
    return Number(document.querySelector('[data-field="estimatedBytes"] [data-bytes]')?.getAttribute('data-bytes')) !== before;
  }, {}, first);
  expect(await estimated()).toBeGreaterThan(first);
  expect(await page.$$eval('.cost-panel ol.jobs > li', (items) => items.length)).toBeGreaterThanOrEqual(2);
  // Which columns cost what: each listed with its bytes.
  expect(await page.$$eval('.cost-panel .columns-cost li [data-bytes]', (cells) => cells.filter((cell) => Number(cell.getAttribute('data-bytes')) > 0).length)).toBeGreaterThan(3);
  expect(system.warehouseQueries.length).toBe(ranBefore); // priced, not run
  await screenshot(page, 'explorer-estimate');

  await page.click('.graphiql-execute-button');
  await page.waitForSelector('[data-testid="actual"] [data-field="billedBytes"] [data-bytes]');
  expect(await page.$eval('[data-testid="actual"] [data-field="billedBytes"] [data-bytes]', (element) => Number(element.getAttribute('data-bytes')))).toBeGreaterThan(0);
  expect(system.warehouseQueries.length).toBeGreaterThan(ranBefore);
  await screenshot(page, 'explorer-actual');
  expect(problems).toEqual([]);
  await page.close();
});

test('no view has a serious or critical accessibility violation (axe-core, WCAG 2 A and AA)', async () => {
  const found: Record<string, unknown[]> = {};
  for (const [role, view] of [['quota-admin', '#/overview'], ['quota-admin', '#/users'], ['quota-admin', '#/audit'], ['viewer', '#/budget'], ['viewer', '#/explorer']] as const) {
    const { page } = await signedIn(role, people[6], view);
    await page.waitForSelector(view === '#/explorer' ? '[data-testid="estimate"]' : 'main table, main .budget');
    found[`${role} ${view}`] = await seriousAccessibilityViolations(page);
    await page.close();
  }
  const { page } = await newPage(browser);
  await page.goto(`${origin}/console/`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('#token');
  found['sign-in'] = await seriousAccessibilityViolations(page);
  await screenshot(page, 'sign-in');
  await page.close();
  expect(found).toEqual(Object.fromEntries(Object.keys(found).map((key) => [key, []])));
});
