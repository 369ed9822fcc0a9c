import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import { PROJECT_ROOT } from '../core/paths.ts';

/** Where scripts/build-console.mjs writes the console and GraphiQL's files (at `npm ci`). */
export const CONSOLE_DIST = join(PROJECT_ROOT, 'console', 'dist');
const ASSET_PREFIX = '/console/assets/';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** The console's page may talk to its own origin only (HTTP and graphql-ws), and load nothing from elsewhere. */
const CONSOLE_CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

interface Asset {
  body: Buffer;
  /** Compressed once, on first use. */
  gzipped?: Buffer;
  type: string;
  etag: string;
  /** Hashed names never change content: browsers keep them a year. The page itself is checked every time. */
  cacheControl: string;
  extraHeaders: Record<string, string>;
}

interface GraphiqlManifest {
  script: string;
  style: string;
  boot: string;
  workers: Record<string, string>;
}

function asset(body: Buffer | string, type: string, cacheControl: string, extraHeaders: Record<string, string> = {}): Asset {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const etag = `"${createHash('sha256').update(buffer).digest('base64url').slice(0, 22)}"`;
  return { body: buffer, type, etag, cacheControl, extraHeaders };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * GraphiQL's page: the bundle, styles and Monaco workers come from the gateway
 * (console/dist/assets), not from a CDN. The options travel as inert JSON; the
 * boot script reads them and the signed-in key from session storage.
 */
function graphiqlPage(manifest: GraphiqlManifest): string {
  const config = { workers: manifest.workers, options: { title: 'Vigil GraphiQL', subscriptionsProtocol: 'WS', endpoint: '/graphql' } };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Vigil GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${escapeHtml(manifest.style)}" />
  </head>
  <body id="body" class="no-focus-outline">
    <div id="root">Loading GraphiQL…</div>
    <script type="application/json" id="graphiql-config">${JSON.stringify(config).replace(/</g, '\\u003c')}</script>
    <script src="${escapeHtml(manifest.boot)}"></script>
    <script src="${escapeHtml(manifest.script)}"></script>
  </body>
</html>
`;
}

/** Reads console/dist once: the page, every hashed asset, and GraphiQL's page. Null when it was never built. */
export function loadConsoleAssets(dist = CONSOLE_DIST): { page: Asset; graphiql: Asset; assets: Map<string, Asset> } | null {
  if (!existsSync(join(dist, 'index.html')) || !existsSync(join(dist, 'graphiql.json'))) return null;
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(join(dist, 'assets'))) {
    const type = CONTENT_TYPES[extname(name)] ?? 'application/octet-stream';
    assets.set(`${ASSET_PREFIX}${name}`, asset(readFileSync(join(dist, 'assets', name)), type, 'public, max-age=31536000, immutable'));
  }
  const manifest = JSON.parse(readFileSync(join(dist, 'graphiql.json'), 'utf8')) as GraphiqlManifest;
  return {
    page: asset(readFileSync(join(dist, 'index.html')), CONTENT_TYPES['.html']!, 'no-cache', { 'content-security-policy': CONSOLE_CSP }),
    graphiql: asset(graphiqlPage(manifest), CONTENT_TYPES['.html']!, 'no-cache', { 'x-frame-options': 'DENY' }),
    assets,
  };
}

function respond(request: Request, found: Asset, Response: typeof globalThis.Response): Response {
  const headers: Record<string, string> = {
    ...COMMON_HEADERS,
    ...found.extraHeaders,
    'content-type': found.type,
    'cache-control': found.cacheControl,
    etag: found.etag,
    vary: 'accept-encoding',
  };
  if (request.headers.get('if-none-match') === found.etag) return new Response(null, { status: 304, headers });
  let body = found.body;
  if (/\bgzip\b/.test(request.headers.get('accept-encoding') ?? '') && found.body.length > 1024) {
    found.gzipped ??= gzipSync(found.body);
    body = found.gzipped;
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(body.length);
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
}

const wantsHtml = (request: Request) => (request.headers.get('accept') ?? '').includes('text/html');

/**
 * Serves the console at `/` and its files at /console/assets/*, and GraphiQL
 * at /graphql to a browser (a GET that accepts HTML; API clients are untouched).
 */
export function useConsoleAssets(graphqlEndpoint = '/graphql', dist = CONSOLE_DIST): Plugin {
  let loaded: ReturnType<typeof loadConsoleAssets> | undefined;
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const path = url.pathname;
      const isPage = path === '/' || path === '/index.html';
      const isGraphiql = path === graphqlEndpoint && wantsHtml(request);
      if (!isPage && !isGraphiql && !path.startsWith(ASSET_PREFIX)) return;
      loaded ??= loadConsoleAssets(dist);
      if (!loaded) {
        const message = 'The console is not built: run `node scripts/build-console.mjs` (`npm ci` does it).\n';
        endResponse(new fetchAPI.Response(message, { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
        return;
      }
      const found = isPage ? loaded.page : isGraphiql ? loaded.graphiql : loaded.assets.get(path);
      if (!found) {
        endResponse(new fetchAPI.Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...COMMON_HEADERS } }));
        return;
      }
      endResponse(respond(request, found, fetchAPI.Response));
    },
  };
}
