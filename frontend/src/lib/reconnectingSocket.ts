// A WebSocket that comes back by itself: exponential backoff with jitter, an immediate retry when
// the browser says it is online again, JSON frames in and out, and tolerance of keepalive and
// unknown frames. The WebSocket class is injectable so tests can drive a fake one.
import { ref, type Ref } from 'vue';

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface Backoff {
  baseMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: share of the delay that is randomised. */
  jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 15000, factor: 2, jitter: 0.3 };

export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const raw = Math.min(b.maxMs, b.baseMs * b.factor ** attempt);
  return Math.max(0, Math.round(raw * (1 - b.jitter + random() * b.jitter)));
}

export type SocketStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface ReconnectingSocketOptions {
  /** Builds the URL for each attempt (a fresh access token each time). */
  getUrl: () => string | Promise<string>;
  WebSocketImpl?: WebSocketCtor;
  backoff?: Partial<Backoff>;
  random?: () => number;
  onOpen?: () => void;
  onFrame?: (frame: Frame) => void;
  /** wasOpen=false means the attempt failed before opening (bad token, server down). */
  onClose?: (info: { code: number; wasOpen: boolean }) => void | Promise<void>;
  /** Return false to stop reconnecting after this close code. */
  shouldReconnect?: (code: number) => boolean;
  /** Listen to window online/offline (default true when a window exists). */
  watchNetwork?: boolean;
}

export interface ReconnectingSocket {
  status: Ref<SocketStatus>;
  /** Failed attempts since the last successful open. */
  attempt: Ref<number>;
  connect(): void;
  /** Closes for good (no reconnect) until connect() is called again. */
  close(): void;
  /** Sends a JSON frame; false when not open. */
  send(frame: Frame): boolean;
  isOpen(): boolean;
}

const OPEN = 1;

export function createReconnectingSocket(opts: ReconnectingSocketOptions): ReconnectingSocket {
  const backoff: Backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  const status = ref<SocketStatus>('idle');
  const attempt = ref(0);
  let ws: WebSocketLike | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wanted = false;
  let generation = 0;

  const hasWindow = typeof window !== 'undefined' && typeof window.addEventListener === 'function';
  const watch = opts.watchNetwork ?? hasWindow;

  function onOnline() {
    if (wanted && status.value === 'reconnecting') {
      clearTimer();
      open();
    }
  }
  function onOffline() {
    // A socket can stay half-open for minutes after the network drops; close it so the UI
    // shows "reconnecting" and messages go to the outbox.
    if (wanted && ws) ws.close(4000, 'offline');
  }

  function clearTimer() {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  }

  function scheduleReconnect() {
    status.value = 'reconnecting';
    const delay = backoffDelay(attempt.value, backoff, opts.random);
    attempt.value += 1;
    clearTimer();
    timer = setTimeout(() => {
      timer = null;
      open();
    }, delay);
  }

  async function open() {
    if (!wanted) return;
    const gen = ++generation;
    status.value = status.value === 'reconnecting' ? 'reconnecting' : 'connecting';
    let url: string;
    try {
      url = await opts.getUrl();
    } catch {
      if (gen === generation && wanted) scheduleReconnect();
      return;
    }
    if (gen !== generation || !wanted) return;
    const Impl: WebSocketCtor = opts.WebSocketImpl ?? (globalThis.WebSocket as unknown as WebSocketCtor);
    let socket: WebSocketLike;
    try {
      socket = new Impl(url);
    } catch {
      scheduleReconnect();
      return;
    }
    ws = socket;
    let wasOpen = false;
    socket.onopen = () => {
      if (ws !== socket) return;
      wasOpen = true;
      attempt.value = 0;
      status.value = 'open';
      opts.onOpen?.();
    };
    socket.onmessage = (ev) => {
      if (ws !== socket) return;
      if (typeof ev.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return; // not JSON: ignore (keepalive text, garbage)
      }
      if (!frame || typeof frame !== 'object' || typeof (frame as Frame).type !== 'string') return;
      const f = frame as Frame;
      if (f.type === 'ping') {
        send({ type: 'pong' });
        return;
      }
      if (f.type === 'pong') return;
      opts.onFrame?.(f);
    };
    socket.onerror = () => {
      /* a close event follows */
    };
    socket.onclose = async (ev) => {
      if (ws !== socket) return;
      ws = null;
      const code = ev?.code ?? 1006;
      await opts.onClose?.({ code, wasOpen });
      if (!wanted) {
        status.value = 'closed';
        return;
      }
      if (opts.shouldReconnect && !opts.shouldReconnect(code)) {
        wanted = false;
        status.value = 'closed';
        return;
      }
      scheduleReconnect();
    };
  }

  function send(frame: Frame): boolean {
    if (!ws || ws.readyState !== OPEN || status.value !== 'open') return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  return {
    status,
    attempt,
    connect() {
      if (wanted && ws) return;
      wanted = true;
      attempt.value = 0;
      if (watch) {
        window.addEventListener('online', onOnline);
        window.addEventListener('offline', onOffline);
      }
      clearTimer();
      void open();
    },
    close() {
      wanted = false;
      generation++;
      clearTimer();
      if (watch) {
        window.removeEventListener('online', onOnline);
        window.removeEventListener('offline', onOffline);
      }
      const s = ws;
      ws = null;
      status.value = 'closed';
      if (s) {
        try {
          s.close(1000, 'bye');
        } catch {
          /* already closed */
        }
      }
    },
    send,
    isOpen: () => status.value === 'open',
  };
}
