// A stand-in for the browser's WebSocket that a test drives by hand: it records what the client
// sends and lets the test open, push frames and drop the connection.
import type { WebSocketLike } from '@/lib/reconnectingSocket';

export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  static reset() {
    FakeWebSocket.instances = [];
  }
  static last(): FakeWebSocket {
    const ws = FakeWebSocket.instances.at(-1);
    if (!ws) throw new Error('no socket was created');
    return ws;
  }

  readyState = 0;
  url: string;
  sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }

  send(data: string) {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(data);
  }
  close(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code });
  }

  // ---- driven by the test ----
  serverOpen() {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverSend(frame: unknown) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
  serverDrop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  frames(): Array<Record<string, unknown>> {
    return this.sent.map((s) => JSON.parse(s));
  }
  framesOfType(type: string) {
    return this.frames().filter((f) => f.type === type);
  }
}

/** Lets pending promise callbacks run (the socket awaits getUrl and onClose). */
export async function flush(times = 5) {
  for (let i = 0; i < times; i++) await Promise.resolve();
}
