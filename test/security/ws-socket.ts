import WebSocket from 'ws';
import { Signal } from '../support/signal.ts';

type Message = { type: string; id?: string; payload?: unknown };

/**
 * A graphql-transport-ws socket spoken by hand, so a probe can send what the
 * graphql-ws client would never send (oversized or malformed messages) and
 * observe each message and the close. Waits are on events, with a deadline.
 */
export class RawGraphqlWs {
  readonly messages: Message[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly changed = new Signal();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.wake(() => this.messages.push(JSON.parse(String(data)) as Message)));
    socket.on('close', (code, reason) => this.wake(() => (this.closed = { code, reason: String(reason) })));
    socket.on('error', () => undefined);
  }

  /** Opens a socket and sends connection_init; resolves once it is acknowledged or closed. */
  static async connect(url: string, authorization?: string): Promise<RawGraphqlWs> {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const raw = new RawGraphqlWs(socket);
    raw.send({ type: 'connection_init', payload: authorization ? { authorization } : {} });
    await raw.until(() => raw.closed !== undefined || raw.messages.some((m) => m.type === 'connection_ack'));
    return raw;
  }

  get acknowledged(): boolean {
    return this.messages.some((m) => m.type === 'connection_ack');
  }

  send(message: Message | string): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}): void {
    this.send({ type: 'subscribe', id, payload: { query, variables } });
  }

  /** Sends a ping and waits for the pong: proof the socket still serves. */
  async stillServes(): Promise<boolean> {
    const before = this.messages.filter((m) => m.type === 'pong').length;
    this.send({ type: 'ping' });
    await this.until(() => this.closed !== undefined || this.messages.filter((m) => m.type === 'pong').length > before);
    return this.closed === undefined;
  }

  messagesFor(id: string): Message[] {
    return this.messages.filter((m) => m.id === id);
  }

  until(done: () => boolean, ms = 10_000): Promise<void> {
    return this.changed.until(done, ms, () => `heard ${JSON.stringify({ messages: this.messages.slice(-5), closed: this.closed })}`);
  }

  close(): void {
    this.socket.terminate();
  }

  private wake(change: () => void): void {
    change();
    this.changed.notify();
  }
}
