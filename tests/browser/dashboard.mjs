#!/usr/bin/env node
// Drives the aggregator's dashboard in headless Chromium (Debian's chromium
// through playwright-core) and prints what the page displays, as JSON lines
// on stdout, for tests/dashboard.rs to check against L1. Progress goes to
// stderr.
//
//   node tests/browser/dashboard.mjs --url http://127.0.0.1:PORT/ \
//        --screenshot PATH.png [--interactive] [--timeout-ms 90000]
//
// Steps, each printing one line {"event": ..., ...}:
//   loaded      the page shows checkpoints with an L1 transaction; readings
//               and the time to the first render of data
//   live        without a reload, a checkpoint attested after "loaded"
//               appeared; readings; full-page screenshot saved to PATH
// With --interactive it then reads commands from stdin, one per line, until
// stdin closes:
//   read        waits for two fresh polls of the API, prints readings
//   unreachable waits until the page says its data is stale (the caller has
//               stopped the aggregator), saves PATH-unreachable.png
//
// CHROMIUM overrides the browser binary (default /usr/bin/chromium).

import { accessSync, constants } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const SETUP_HINT = 'run tests/browser/bootstrap (scripts/test runs it) to install it';

function fail(message) {
  process.stderr.write(`dashboard.mjs: ${message}\n`);
  process.exit(1);
}

function log(message) {
  process.stderr.write(`dashboard.mjs: ${message}\n`);
}

function emit(event, fields) {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    screenshot: { type: 'string' },
    interactive: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '90000' },
  },
});
if (!args.url || !args.screenshot) {
  fail('usage: dashboard.mjs --url URL --screenshot PATH.png [--interactive] [--timeout-ms N]');
}
const timeout = Number(args['timeout-ms']);
if (!Number.isFinite(timeout) || timeout <= 0) fail(`--timeout-ms must be a positive number, not ${args['timeout-ms']}`);

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
try {
  accessSync(executablePath, constants.X_OK);
} catch {
  fail(`no Chromium at ${executablePath}: ${SETUP_HINT} (Debian's chromium package), or set CHROMIUM to a Chromium binary`);
}

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (error) {
  fail(`playwright-core is not installed in tests/browser/node_modules (${error.code || error.message}): ${SETUP_HINT}`);
}

/** What the page displays, read from its data-testid elements. */
function readPage() {
  const all = (selector, root = document) => [...root.querySelectorAll(selector)];
  const one = (root, testid) => root.querySelector(`[data-testid="${testid}"]`);
  const text = (node) => (node ? node.textContent.trim() : null);
  const connection = one(document, 'connection');
  return {
    connection: { state: connection.dataset.state, text: text(connection) },
    polls: Number(document.body.dataset.polls),
    firstRenderMs: document.body.dataset.firstRenderMs ? Number(document.body.dataset.firstRenderMs) : null,
    tableVersion: text(one(document, 'table-version')),
    rollups: all('[data-testid="rollup-row"]').map((row) => ({
      rollupId: Number(row.dataset.rollupId),
      safeHead: text(one(row, 'rollup-safe-head')),
      attested: text(one(row, 'rollup-attested')),
      lag: text(one(row, 'rollup-lag')),
    })),
    checkpoints: all('[data-testid="checkpoint-row"]').map((row) => {
      const weight = one(row, 'checkpoint-weight');
      return {
        id: Number(row.dataset.checkpointId),
        state: row.dataset.state,
        tx: one(row, 'checkpoint-tx').dataset.value || null,
        txText: text(one(row, 'checkpoint-tx')),
        l1Block: text(one(row, 'checkpoint-l1-block')),
        weightText: text(weight),
        signedWeight: weight.dataset.value,
        neededWeight: weight.dataset.needed,
        totalWeight: weight.dataset.total,
      };
    }),
    grid: {
      operators: all('[data-testid="grid-row"]').map((row) => row.dataset.operator),
      checkpoints: all('#grid-head th.col').map((th) => Number(th.textContent)),
      cells: all('[data-testid="grid-cell"]').map((cell) => ({
        operator: cell.dataset.operator,
        checkpointId: Number(cell.dataset.checkpointId),
        status: cell.dataset.status,
        reasons: cell.dataset.reasons ? cell.dataset.reasons.split(',') : [],
        text: cell.textContent,
      })),
    },
    divergences: all('[data-testid="divergence-row"]').map((row) => ({
      checkpointId: Number(row.dataset.checkpointId),
      operator: row.dataset.operator,
    })),
  };
}

const browser = await chromium.launch({
  executablePath,
  // launch() gives every run a fresh temporary profile (user-data dir).
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

let exitCode = 0;
try {
  await run(browser);
} catch (error) {
  process.stderr.write(`dashboard.mjs: ${error.stack || error}\n`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);

async function run(browser) {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const problems = [];
  let watchProblems = true;
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (watchProblems && message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  // Page weight: every byte of the page's own files (not the API's JSON).
  const assets = {};
  page.on('response', async (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith('/v1/')) return;
    try {
      assets[path] = (await response.body()).length;
    } catch {
      // A response without a body (e.g. a redirect) weighs nothing.
    }
  });

  const navigationStarted = Date.now();
  const navigation = await page.goto(args.url, { waitUntil: 'load', timeout });
  if (!navigation || !navigation.ok()) throw new Error(`GET ${args.url} answered ${navigation && navigation.status()}`);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="checkpoint-tx"][data-value^="0x"]'),
    null,
    { timeout, polling: 100 },
  );
  const shownAfterMs = Date.now() - navigationStarted;
  const loaded = await page.evaluate(readPage);
  const loadMark = `mark-${Math.random()}`;
  await page.evaluate((mark) => {
    window.chorusLoadMark = mark;
  }, loadMark);
  emit('loaded', { shownAfterMs, pageBytes: assets, readings: loaded });
  log(`data on screen ${shownAfterMs} ms after navigation (page: ${loaded.firstRenderMs} ms)`);

  // Live: a checkpoint attested after the first reading shows up by itself.
  const known = loaded.checkpoints.filter((c) => c.state === 'attested').map((c) => c.id);
  const newest = Math.max(0, ...known);
  const liveStarted = Date.now();
  await page.waitForFunction(
    (after) =>
      [...document.querySelectorAll('[data-testid="checkpoint-row"][data-state="attested"]')].some(
        (row) => Number(row.dataset.checkpointId) > after,
      ),
    newest,
    { timeout, polling: 100 },
  );
  const reloaded = (await page.evaluate(() => window.chorusLoadMark)) !== loadMark;
  if (reloaded) throw new Error('the page was reloaded: live updates must not need one');
  const live = await page.evaluate(readPage);
  await page.screenshot({ path: args.screenshot, fullPage: true });
  emit('live', { newestBefore: newest, waitedMs: Date.now() - liveStarted, screenshot: args.screenshot, readings: live });
  log(`screenshot: ${args.screenshot}`);
  if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);

  if (!args.interactive) return;
  const commands = createInterface({ input: process.stdin });
  for await (const line of commands) {
    const command = line.trim();
    if (command === 'read') {
      const polls = await page.evaluate(() => Number(document.body.dataset.polls));
      // Two more polls: the second one started after this command.
      await page.waitForFunction((n) => Number(document.body.dataset.polls) >= n + 2, polls, { timeout, polling: 100 });
      emit('read', { readings: await page.evaluate(readPage) });
      if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
    } else if (command === 'unreachable') {
      // Failed requests are logged as console errors: expected from now on.
      watchProblems = false;
      await page.waitForFunction(
        () => document.querySelector('[data-testid="connection"]').dataset.state !== 'live',
        null,
        { timeout, polling: 100 },
      );
      const path = args.screenshot.replace(/(\.png)?$/, '-unreachable.png');
      await page.screenshot({ path, fullPage: true });
      emit('unreachable', { screenshot: path, readings: await page.evaluate(readPage) });
    } else if (command !== '') {
      throw new Error(`unknown command ${JSON.stringify(command)} (read, unreachable)`);
    }
  }
}
