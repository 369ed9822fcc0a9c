/**
 * Console bench: how many bytes the console's first load costs (raw and
 * gzip, as the gateway sends them) and how long Chromium takes to show it,
 * beside an empty page from the same server in the same run.
 *
 *   npm run bench:console
 *
 * Needs Debian's Chromium (/usr/bin/chromium) and nothing else: the pages
 * come from the gateway's own asset plugin (src/gateway/console-assets.ts)
 * in a yoga server of this process; the console's sign-in page makes no API
 * call, so no database, Redis or Kafka is involved.
 *
 * "Cold" is a fresh browser context (empty cache); "warm" loads the page
 * again in that context (the hashed assets come from the cache, the page
 * revalidates). The console counts as shown when its sign-in form is
 * visible; the empty page when its load event fired.
 * Settings (environment): BENCH_RUNS (20) loads per page and kind, after
 * BENCH_WARMUP (3).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { createYoga, type Plugin } from 'graphql-yoga';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../src/core/paths.ts';
import { CONSOLE_DIST, useConsoleAssets } from '../src/gateway/console-assets.ts';

const CHROMIUM = '/usr/bin/chromium';
const RUNS = intEnv('BENCH_RUNS', 20);
const WARMUP = intEnv('BENCH_WARMUP', 3);
const EMPTY_PAGE = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8" /><title>empty</title></head><body></body></html>\n';

function intEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

/** An empty HTML page at /empty, sent with the same headers discipline as the console's page. */
function useEmptyPage(): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/empty') return;
      endResponse(new fetchAPI.Response(EMPTY_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } }));
    },
  };
}

/** What a first load of `/` fetches: the page and the files it names (source maps only load with devtools open). */
function firstLoadFiles(): { name: string; bytes: number; gzip: number }[] {
  const page = readFileSync(join(CONSOLE_DIST, 'index.html'));
  const named = [...page.toString('utf8').matchAll(/(?:src|href)="\/console\/assets\/([^"]+)"/g)].map((m) => m[1]!);
  const files = [{ name: 'index.html', body: page }, ...named.map((name) => ({ name, body: readFileSync(join(CONSOLE_DIST, 'assets', name)) }))];
  // The gateway compresses files over 1 KiB only (console-assets.ts): smaller ones go as they are.
  return files.map(({ name, body }) => ({ name, bytes: body.length, gzip: body.length > 1024 ? gzipSync(body).length : body.length }));
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const ms = (value: number) => `${value.toFixed(0)} ms`;

interface Page {
  label: string;
  path: string;
  /** Resolves when the page counts as shown. */
  shown: (page: import('playwright-core').Page) => Promise<unknown>;
}

async function timeLoads(browser: Browser, base: string, target: Page): Promise<{ cold: number[]; warm: number[] }> {
  const cold: number[] = [];
  const warm: number[] = [];
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    let started = performance.now();
    await page.goto(`${base}${target.path}`, { waitUntil: 'commit' });
    await target.shown(page);
    const first = performance.now() - started;
    started = performance.now();
    await page.goto(`${base}${target.path}?again`, { waitUntil: 'commit' });
    await target.shown(page);
    const second = performance.now() - started;
    await context.close();
    if (run >= WARMUP) {
      cold.push(first);
      warm.push(second);
    }
  }
  return { cold: cold.sort((a, b) => a - b), warm: warm.sort((a, b) => a - b) };
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-console.mjs')], { stdio: 'inherit' });
  const files = firstLoadFiles();
  const yoga = createYoga({ plugins: [useConsoleAssets(), useEmptyPage()], logging: false, graphiql: false });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const pages: Page[] = [
      { label: 'empty page', path: '/empty', shown: (page) => page.waitForLoadState('load') },
      { label: 'console (sign-in rendered)', path: '/', shown: (page) => page.locator('input[name="apiKey"]').waitFor() },
    ];
    const results = [];
    for (const target of pages) results.push({ target, ...(await timeLoads(browser, base, target)) });

    console.log(`\nConsole first load: what a browser fetches for / (raw, and as sent: gzip over 1 KiB)`);
    for (const f of files) console.log(`  ${f.name.padEnd(28)} ${String(f.bytes).padStart(9)} B  ${String(f.gzip).padStart(8)} B sent`);
    const total = files.reduce((sum, f) => ({ bytes: sum.bytes + f.bytes, gzip: sum.gzip + f.gzip }), { bytes: 0, gzip: 0 });
    console.log(`  ${'total'.padEnd(28)} ${String(total.bytes).padStart(9)} B  ${String(total.gzip).padStart(8)} B sent`);
    console.log(`  empty page                   ${String(Buffer.byteLength(EMPTY_PAGE)).padStart(9)} B`);

    console.log(`\nTime to shown in Chromium (${(await browser.version())}), ${RUNS} loads each after ${WARMUP} warm-up, same server:`);
    console.log(`  ${'page'.padEnd(28)} ${'cold p50'.padStart(9)} ${'cold p90'.padStart(9)} ${'warm p50'.padStart(9)} ${'warm p90'.padStart(9)}`);
    for (const r of results) {
      console.log(
        `  ${r.target.label.padEnd(28)} ${ms(quantile(r.cold, 0.5)).padStart(9)} ${ms(quantile(r.cold, 0.9)).padStart(9)} ${ms(quantile(r.warm, 0.5)).padStart(9)} ${ms(quantile(r.warm, 0.9)).padStart(9)}`,
      );
    }
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

await main();
