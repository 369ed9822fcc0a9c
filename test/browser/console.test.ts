import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERIES_POINTS_PER_FLUSH } from '../../src/stream/series-points.ts';
import { uniqueName } from '../support/env.ts';
import { waitFor } from '../support/processes.ts';
import { buildConsole, createKey, launchChromium, startGatewayWithoutKafka, publish, registerFixtures, screenshot, signIn, startVigil, VIEWPORT, type Vigil } from './support.ts';

/**
 * The console in a real Chromium against a real `vigil start`: events go
 * through the API into Kafka, the worker finds the anomaly, and the page
 * shows it over graphql-ws. The tests run in order: each picks up the
 * incident the one before left.
 */
const prefix = uniqueName('console');
let vigil: Vigil;
let browser: Browser;
let fx: Awaited<ReturnType<typeof registerFixtures>>;
type Key = Awaited<ReturnType<typeof createKey>>;
let operator: Key;
let requester: Key;
let viewer: Key;
let incidentId = '';
const contexts: BrowserContext[] = [];

/**
 * The incident the live-feed test opens, which the tests after it work through (acknowledge, view,
 * resolve): they say so when it is missing, so one failure does not read as several.
 */
function openedIncident(): string {
  if (!incidentId) throw new Error('no incident: the live-feed test, which opens it, failed first (see its error)');
  return incidentId;
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  contexts.push(context);
  // Every wait below is on a signal; a short default makes a missing one fail fast instead of at 30 s.
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

const POSTMORTEM = `query($id: ID!) { postmortem(incidentId: $id) { markdown timeline { source message } } }`;

beforeAll(async () => {
  buildConsole();
  // Assigned one by one: if either fails, afterAll still stops the other (a Promise.all would leak the process).
  const starting = startVigil(prefix);
  starting.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
  browser = await launchChromium().catch(async (error: unknown) => {
    vigil = await starting;
    throw error;
  });
  vigil = await starting;
  [operator, requester, viewer] = await Promise.all([createKey(vigil, 'OPERATOR'), createKey(vigil, 'OPERATOR'), createKey(vigil, 'VIEWER')]);
  fx = await registerFixtures(vigil, prefix);
  // An ordinary event, committed: the worker consumes the new topic before the test times anything.
  await publish(vigil, fx.streamId, [{ host: 'web-1', latency_ms: 120 }]);
  await waitFor(
    async () => {
      const { stream } = await vigil.admin.request<{ stream: { health: { lastEventAt: string | null } } }>(
        `query($id: ID!) { stream(id: $id) { health { lastEventAt } } }`,
        { id: fx.streamId },
      );
      return stream.health.lastEventAt !== null;
    },
    60_000,
    () => `the warm-up event was never consumed:\n${vigil.process.output().slice(-3000)}`,
  );
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await vigil?.stop();
});

describe('the console', () => {
  it('refuses a bad key on the sign-in page, and signs in with a good one', async () => {
    const page = await newPage();
    await page.goto(`${vigil.base}/`);
    await screenshot(page, 'sign-in');
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toMatch(/refused/);
    expect(await page.evaluate(() => sessionStorage.getItem('vigil.apiKey'))).toBeNull();
    await screenshot(page, 'bad-key');
    await signIn(page, vigil.base, operator.secret);
    expect(await page.getByTestId('who').textContent()).toContain('OPERATOR');
    expect(page.url()).not.toContain(operator.secret);
  });

  it('shows a new anomaly in the live feed within 2 s without a reload, and on the stream chart', async () => {
    const page = await newPage();
    await signIn(page, vigil.base, operator.secret);
    await page.locator('[data-live="live"]').waitFor({ state: 'attached' });
    await page.getByTestId('stream-health').getByText(fx.streamName).waitFor();
    let reloaded = false;
    page.on('framenavigated', () => (reloaded = true));
    // A minute and a half of ordinary latency for the chart, one event a second of event time, before the anomaly.
    const now = Date.now();
    const ordinary = Array.from({ length: 90 }, (_, i) => ({
      host: 'web-1',
      latency_ms: Math.round(160 + 60 * Math.sin(i / 9) + 15 * Math.sin(i * 1.7)),
      errors: 0,
      at: new Date(now - (90 - i) * 1000).toISOString(),
    }));
    await vigil.admin.request(`mutation($streamId: ID!, $events: [JSON!]!) { publishEvents(streamId: $streamId, events: $events) { accepted } }`, {
      streamId: fx.streamId,
      events: ordinary,
    });

    const producedAt = Date.now();
    await publish(vigil, fx.streamId, [{ host: 'web-1', latency_ms: 950 }]);
    const item = page.getByTestId('live-feed').locator('li', { hasText: 'web-1' }).first();
    await item.waitFor({ timeout: 10_000 });
    const latencyMs = Date.now() - producedAt;
    console.log(`anomaly in the live feed ${latencyMs} ms after publishEvents`);
    expect(latencyMs).toBeLessThan(2_000);
    expect(reloaded).toBe(false);
    expect(await item.textContent()).toMatch(/950/);
    // The incident the anomaly opened is counted too, also without a reload.
    await page.getByTestId('open-WARNING').getByText('1', { exact: true }).waitFor();
    // And named: what is burning, for how long, and that nobody has acknowledged it yet.
    const burning = page.getByTestId('burning').getByRole('listitem').first();
    expect(await burning.textContent()).toMatch(
      new RegExp(`^WARNING ${prefix}-slow: latency_ms anomalies on ${fx.streamName}open for \\d+s · 1 anomaly · not acknowledged$`),
    );
    expect(await burning.getByRole('link').getAttribute('href')).toMatch(/^#\/incidents\/inc_/);
    await screenshot(page, 'overview');

    await page.getByTestId('stream-health').getByRole('link', { name: fx.streamName }).click();
    const chart = page.getByTestId('series-chart');
    // The series of the newest anomaly (host web-1): its ordinary values as a line, the anomaly marked on it.
    await waitFor(
      async () => Number(await chart.getAttribute('data-points')) > 1 && Number(await chart.getAttribute('data-anomalies')) >= 1,
      10_000,
      () => 'the chart shows no series with its anomaly marked',
    );
    // 90 s of history published at once run ahead of the clock: a flush keeps the newest SERIES_POINTS_PER_FLUSH of them, and the anomaly.
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(SERIES_POINTS_PER_FLUSH);
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
    expect(await chart.textContent()).toMatch(/host web-1.*1 anomaly marked.*950/);
    // Which worker processes read the stream (stream health's workers): the test's one worker, its one partition.
    expect(await page.getByTestId('stream-workers').textContent()).toMatch(/^Read by \S+:\d+ \(partition 0\)\.$/);
    await screenshot(page, 'stream');
    // The detector's settings: the one it changed shown, each explained in the server's words (detectorKinds).
    const detectors = page.getByTestId('detectors');
    const row = detectors.getByRole('row').filter({ hasText: `${prefix}-slow` });
    expect(await row.locator('.setting').allTextContents()).toEqual(['max 500']);
    await row.getByRole('button', { name: 'Explain' }).click();
    const explained = detectors.getByTestId('settings-explained');
    expect(await explained.getByRole('row').filter({ hasText: 'max' }).last().textContent()).toMatch(/^max500nullValues above max are anomalous/);
    await explained.scrollIntoViewIfNeeded();
    await screenshot(page, 'detector-settings');

    const { incidents } = await vigil.admin.request<{ incidents: { edges: { node: { id: string } }[] } }>(
      `query($s: ID) { incidents(first: 1, filter: { streamId: $s }) { edges { node { id } } } }`,
      { s: fx.streamId },
    );
    incidentId = incidents.edges[0]?.node.id ?? '';
    expect(incidentId).not.toBe('');
  });

  it('acknowledges, labels and approves (as an OPERATOR other than the requester) with buttons, each change shown', async () => {
    const opened = openedIncident();
    const { triggerRunbook } = await vigil.client(requester.secret).request<{ triggerRunbook: { id: string; status: string } }>(
      `mutation($r: ID!, $i: ID) { triggerRunbook(runbookId: $r, incidentId: $i) { id status } }`,
      { r: fx.runbookId, i: opened },
    );
    expect(triggerRunbook.status).toBe('PENDING_APPROVAL');

    // Four eyes: the OPERATOR who asked for the run is not offered its approval.
    const requesterPage = await newPage();
    await signIn(requesterPage, vigil.base, requester.secret);
    await requesterPage.goto(`${vigil.base}/#/incidents/${opened}`);
    const requested = requesterPage.locator(`[data-execution-id="${triggerRunbook.id}"]`);
    await requested.getByTestId('awaiting-approval').waitFor();
    expect(await requested.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await requested.getByRole('button', { name: 'Cancel run' }).count()).toBe(1);

    const page = await newPage();
    await signIn(page, vigil.base, operator.secret);
    await page.goto(`${vigil.base}/#/incidents`);
    await page.getByTestId('incidents').getByRole('link').first().waitFor();
    await screenshot(page, 'incidents');
    await page.goto(`${vigil.base}/#/incidents/${opened}`);

    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await waitFor(async () => (await page.getByTestId('incident-status').textContent()) === 'ACKNOWLEDGED', 5_000, () => 'status not ACKNOWLEDGED');
    await page.getByTestId('timeline').getByText('ACKNOWLEDGED').waitFor();

    await page.getByRole('button', { name: 'True positive' }).first().click();
    await page.getByTestId('anomaly-label').first().waitFor();
    expect(await page.getByTestId('anomaly-label').first().textContent()).toBe('true positive');

    const execution = page.locator(`[data-execution-id="${triggerRunbook.id}"]`);
    await execution.getByRole('button', { name: 'Approve' }).click();
    await waitFor(
      async () => (await execution.getByTestId('execution-status').textContent()) === 'SUCCEEDED',
      30_000,
      () => `execution not SUCCEEDED:\n${vigil.process.output().slice(-2000)}`,
    );
    expect(await execution.textContent()).toContain(`approved by ${operator.name}`);
    expect(await execution.textContent()).toMatch(/NOTIFY: SUCCEEDED/);
    await screenshot(page, 'incident');

    // What the page showed is what the API holds.
    const { incident } = await vigil.admin.request<{ incident: { status: string; anomalies: { edges: { node: { label: string | null } }[] } } }>(
      `query($id: ID!) { incident(id: $id) { status anomalies(first: 1) { edges { node { label } } } } }`,
      { id: opened },
    );
    expect(incident.status).toBe('ACKNOWLEDGED');
    expect(incident.anomalies.edges[0]?.node.label).toBe('TRUE_POSITIVE');
  });

  it('offers a VIEWER no action at all', async () => {
    const opened = openedIncident();
    const page = await newPage();
    await signIn(page, vigil.base, viewer.secret);
    await page.goto(`${vigil.base}/#/incidents/${opened}`);
    await page.getByTestId('timeline').waitFor();
    await page.locator('[data-anomaly-id]').first().waitFor();
    await page.locator('[data-execution-id]').first().waitFor();
    for (const name of ['Acknowledge', 'Resolve', 'True positive', 'False positive', 'Approve', 'Cancel run', 'Trigger runbook']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
    await page.goto(`${vigil.base}/#/streams/${fx.streamId}`);
    await page.getByTestId('series-chart').waitFor();
    expect(await page.getByTestId('stream-controls').count()).toBe(0);
    for (const name of ['Pause', 'Replay', 'Reprocess']) expect(await page.getByRole('button', { name }).count(), name).toBe(0);
  });

  it('resolves the incident and shows its postmortem, whose Markdown download is the API’s', async () => {
    const opened = openedIncident();
    const page = await newPage();
    await signIn(page, vigil.base, operator.secret);
    await page.goto(`${vigil.base}/#/incidents/${opened}`);
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitFor(async () => (await page.getByTestId('incident-status').textContent()) === 'RESOLVED', 5_000, () => 'status not RESOLVED');

    await page.getByRole('link', { name: 'Postmortem' }).click();
    const timeline = page.getByTestId('pm-timeline');
    await timeline.waitFor();
    const text = (await timeline.textContent()) ?? '';
    for (const source of ['DETECTION', 'INCIDENT', 'RUNBOOK']) expect(text).toContain(source);
    expect(text).toMatch(/ACKNOWLEDGED/);
    expect(text).toMatch(/step 1 NOTIFY/);
    await screenshot(page, 'postmortem');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Markdown' }).click()]);
    const file = await download.path();
    const { postmortem } = await vigil.client(viewer.secret).request<{ postmortem: { markdown: string } }>(POSTMORTEM, { id: opened });
    expect(readFileSync(file, 'utf8')).toBe(postmortem.markdown);
    expect(postmortem.markdown).toContain('## Timeline');
  });

  it('silences one series of a stream for a while: its next anomaly is marked silenced and opens no incident; the overview lists it; ending it clears it', async () => {
    const page = await newPage();
    await signIn(page, vigil.base, operator.secret);
    await page.goto(`${vigil.base}/#/streams/${fx.streamId}`);
    const form = page.getByTestId('silence-form');
    await form.locator('select[name=duration]').selectOption({ label: '2 hours' });
    expect(await form.locator('select[name=detector] option').allTextContents()).toEqual(['every detector', `${prefix}-slow`]);
    await form.locator('input[name=series]').fill('web-2');
    await form.getByPlaceholder('e.g. database failover drill').fill('latency load test');
    await form.getByRole('button', { name: 'Silence' }).click();
    const listed = page.getByTestId('silences').getByRole('listitem').first();
    await listed.waitFor();
    expect(await listed.textContent()).toMatch(new RegExp(`^silenced every detector, series web-2 until .*“latency load test” · ${operator.name}End now$`));

    await publish(vigil, fx.streamId, [{ host: 'web-2', latency_ms: 990 }, { host: 'web-1', latency_ms: 991 }]);
    const item = page.getByTestId('live-feed').locator('li', { hasText: 'web-2' }).first();
    await item.getByTestId('silenced').waitFor();
    expect(await item.getByTestId('silenced').getAttribute('title')).toMatch(/opened no incident: latency load test$/);
    expect(await item.textContent()).not.toContain('incident:');
    // Another series is not silenced: its anomaly is grouped into an incident as usual.
    const otherSeries = page.getByTestId('live-feed').locator('li', { hasText: '991' }).first();
    await otherSeries.waitFor();
    expect(await otherSeries.getByTestId('silenced').count()).toBe(0);
    expect(await otherSeries.textContent()).toContain('incident:');

    await page.goto(`${vigil.base}/#/`);
    const onOverview = page.getByTestId('silences').getByRole('listitem').first();
    expect(await onOverview.textContent()).toContain(`${fx.streamName}: every detector, series web-2 until`);
    await screenshot(page, 'silenced');
    await onOverview.getByRole('button', { name: 'End now' }).click();
    await page.getByText('Nothing is silenced.').waitFor();
  });

  it('serves GraphiQL at /graphql to a browser from local assets only', async () => {
    const page = await newPage();
    const outside: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!['127.0.0.1', 'localhost'].includes(url.hostname) && !['data:', 'blob:'].includes(url.protocol)) outside.push(request.url());
    });
    // Not signed in: the screenshot shows the header's placeholder, not a key.
    await page.goto(`${vigil.base}/graphql`);
    await page.locator('.graphiql-container').first().waitFor({ timeout: 20_000 });
    await screenshot(page, 'graphiql');
    expect(outside).toEqual([]);
  });

  it('returns to the sign-in page, with the reason, when the signed-in key is revoked', async () => {
    const doomed = await createKey(vigil, 'OPERATOR');
    const page = await newPage();
    await signIn(page, vigil.base, doomed.secret);
    await page.locator('[data-live="live"]').waitFor({ state: 'attached' });
    await vigil.admin.request(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: doomed.id });
    // No click: the gateway closes the key's live connection, and the console asks who it is.
    await page.getByRole('alert').getByText(/refused/).waitFor({ timeout: 15_000 });
    expect(await page.getByLabel('API key').count()).toBe(1);
    expect(await page.evaluate(() => sessionStorage.getItem('vigil.apiKey'))).toBeNull();
  });

  it('says when the service is degraded, from /readyz', async () => {
    const gateway = await startGatewayWithoutKafka(prefix);
    try {
      const page = await newPage();
      await signIn(page, gateway.base, operator.secret);
      const banner = page.getByTestId('banner-degraded');
      await banner.waitFor();
      expect(await banner.textContent()).toMatch(/Kafka down/);
      await page.getByTestId('component-Kafka').waitFor();
      await screenshot(page, 'degraded');
    } finally {
      await gateway.stop();
    }
  });

  it('says when live updates drop and when they are back, after a restart of vigil', async () => {
    const page = await newPage();
    await signIn(page, vigil.base, operator.secret);
    await page.locator('[data-live="live"]').waitFor({ state: 'attached' });
    await vigil.stop();
    await page.getByTestId('banner-live-dropped').waitFor({ timeout: 15_000 });
    await screenshot(page, 'live-dropped');
    vigil = await startVigil(prefix, vigil.port);
    await page.getByTestId('banner-live-back').waitFor({ timeout: 30_000 });
  });
});
