// Builds the console (console/src) and GraphiQL's assets into console/dist, which the gateway
// serves at / and /console/* (src/gateway/console-assets.ts). Runs at `npm ci` (postinstall), so
// a machine without internet serves both pages: nothing is fetched from a CDN at run time.
// File names carry a content hash, so the gateway can let browsers cache them for a year.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const consoleDir = join(root, 'console');
const dist = join(consoleDir, 'dist');
const assets = join(dist, 'assets');

const hashed = (name, ext, content) => `${name}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}.${ext}`;

function writeAsset(name, ext, content) {
  const file = hashed(name, ext, content);
  writeFileSync(join(assets, file), content);
  return `/console/assets/${file}`;
}

async function buildApp() {
  const result = await build({
    entryPoints: [join(consoleDir, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: assets,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => `/console/assets/${relative(assets, join(root, file))}`);
  const script = outputs.find((f) => f.endsWith('.js'));
  const style = outputs.find((f) => f.endsWith('.css'));
  if (!script || !style) throw new Error(`esbuild produced no script or stylesheet: ${outputs.join(', ')}`);
  const template = readFileSync(join(consoleDir, 'index.html'), 'utf8');
  writeFileSync(join(dist, 'index.html'), template.replace('%SCRIPT%', script).replace('%STYLE%', style));
}

/** GraphiQL from @graphql-yoga/render-graphiql, split into cacheable files instead of one 9 MB page. */
async function buildGraphiql() {
  const graphiql = await import('@graphql-yoga/render-graphiql/graphiql');
  const manifest = {
    script: writeAsset('graphiql', 'js', graphiql.js),
    style: writeAsset('graphiql', 'css', graphiql.css),
    boot: writeAsset('graphiql-boot', 'js', readFileSync(join(consoleDir, 'graphiql-boot.js'))),
    workers: {
      editorWorkerService: writeAsset('editor.worker', 'js', graphiql.editorWorkerService),
      json: writeAsset('json.worker', 'js', graphiql.jsonWorker),
      graphql: writeAsset('graphql.worker', 'js', graphiql.graphqlWorker),
    },
  };
  writeFileSync(join(dist, 'graphiql.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
await Promise.all([buildApp(), buildGraphiql()]);
console.log(`console built into ${relative(root, dist)}`);
