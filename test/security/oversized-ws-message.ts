import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/core/paths.ts';

/**
 * A graphql-ws client in a process of its own that subscribes with one
 * message of `megabytes` MB and reports the code the server closed with.
 * The service under test runs in the test's process: built there, the
 * message (its string, its UTF-8 copy and its masked frame, some 90 MB at
 * 30 MB) was collected while the test timed the service's next answer, and
 * the test measured its own client's garbage.
 */
const CLIENT = `
import WebSocket from 'ws';
const socket = new WebSocket(process.env.WS_URL, 'graphql-transport-ws');
socket.on('error', () => undefined);
socket.on('close', (code) => { process.stdout.write(JSON.stringify({ code })); process.exit(0); });
socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: process.env.WS_AUTH } })));
socket.on('message', (data) => {
  if (JSON.parse(String(data)).type !== 'connection_ack') return;
  const pad = 'x'.repeat(Number(process.env.WS_MEGABYTES) * 1024 * 1024);
  socket.send(JSON.stringify({ type: 'subscribe', id: 'big', payload: { query: process.env.WS_QUERY, variables: { pad } } }));
});
`;

export function sendOversizedSubscription(wsUrl: string, authorization: string, query: string, megabytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CLIENT], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, WS_URL: wsUrl, WS_AUTH: authorization, WS_QUERY: query, WS_MEGABYTES: String(megabytes) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.once('error', reject);
    child.once('exit', (status) => {
      try {
        resolve((JSON.parse(out) as { code: number }).code);
      } catch {
        reject(new Error(`the oversized client exited (${status}) without a close code: ${out}`));
      }
    });
  });
}
