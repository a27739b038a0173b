import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useChatSocket } from '@/composables/useChatSocket';
import type { Message } from '@/api/types';
import { backoffDelay, DEFAULT_BACKOFF } from '@/lib/reconnectingSocket';
import { FakeWebSocket, flush } from './support/fakeWebSocket';

const ME = { id: 'me', username: 'ana' };
const BOB = { id: 'bob', username: 'bob' };

function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    chat_id: 'c1',
    seq,
    sender: BOB,
    text: `hello ${seq}`,
    client_msg_id: `cm-${seq}`,
    created_at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    edited_at: null,
    deleted: false,
    read_by: [],
    ...over,
  };
}

function make(extra: Partial<Parameters<typeof useChatSocket>[0]> = {}) {
  let n = 0;
  const tokens: string[] = [];
  const s = useChatSocket({
    WebSocketImpl: FakeWebSocket,
    getUrl: async () => {
      const t = `tok${++n}`;
      tokens.push(t);
      return `ws://test/api/v1/ws?access_token=${t}`;
    },
    backoff: { baseMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
    newId: (() => {
      let i = 0;
      return () => `local-${++i}`;
    })(),
    watchNetwork: false,
    ...extra,
  });
  return { s, tokens };
}

async function connectOpen(s: ReturnType<typeof useChatSocket>) {
  s.connect();
  await flush();
  const ws = FakeWebSocket.last();
  ws.serverOpen();
  return ws;
}

describe('chat socket', () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reconnects with growing backoff and a fresh URL each time', async () => {
    const { s, tokens } = make();
    const ws1 = await connectOpen(s);
    expect(s.status.value).toBe('open');
    ws1.serverDrop();
    await flush();
    expect(s.status.value).toBe('reconnecting');
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    // The second attempt fails before opening: the next wait doubles.
    FakeWebSocket.last().serverDrop();
    await flush();
    await vi.advanceTimersByTimeAsync(199);
    expect(FakeWebSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.last().serverOpen();
    expect(s.status.value).toBe('open');
    expect(tokens).toEqual(['tok1', 'tok2', 'tok3']);
    expect(FakeWebSocket.last().url).toContain('access_token=tok3');
  });

  it('calls onConnectFailure when an attempt never opens (e.g. expired token)', async () => {
    const onConnectFailure = vi.fn();
    const { s } = make({ onConnectFailure });
    s.connect();
    await flush();
    FakeWebSocket.last().serverDrop(1008);
    await flush();
    expect(onConnectFailure).toHaveBeenCalledTimes(1);
    expect(s.status.value).toBe('reconnecting');
  });

  it('resumes each opened chat after a reconnect from the last seq it has', async () => {
    const { s } = make();
    const ws1 = await connectOpen(s);
    s.ingest(msg(1));
    s.ingest(msg(2));
    s.ingest(msg(1, { chat_id: 'c2', id: 'x1', client_msg_id: 'x1' }));
    s.track('c1');
    s.track('c2');
    // Opening a chat asks for anything after what was loaded.
    expect(ws1.framesOfType('resume')).toEqual([
      { type: 'resume', chat_id: 'c1', after_seq: 2 },
      { type: 'resume', chat_id: 'c2', after_seq: 1 },
    ]);
    ws1.serverSend({ type: 'message', message: msg(3) });
    ws1.serverDrop();
    await flush();
    await vi.advanceTimersByTimeAsync(100);
    const ws2 = FakeWebSocket.last();
    expect(ws2).not.toBe(ws1);
    ws2.serverOpen();
    expect(ws2.framesOfType('resume')).toEqual([
      { type: 'resume', chat_id: 'c1', after_seq: 3 },
      { type: 'resume', chat_id: 'c2', after_seq: 1 },
    ]);
    // The replay overlaps what we already have: no duplicates, no gaps.
    for (const seq of [3, 4, 5]) ws2.serverSend({ type: 'message', message: msg(seq) });
    expect(s.messages('c1').map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('asks for a replay when it sees a gap in seq', async () => {
    const { s } = make();
    const ws = await connectOpen(s);
    s.ingest(msg(1));
    s.track('c1');
    ws.sent = [];
    ws.serverSend({ type: 'message', message: msg(4) });
    expect(ws.frames()).toEqual([{ type: 'resume', chat_id: 'c1', after_seq: 1 }]);
    ws.serverSend({ type: 'message', message: msg(2) });
    ws.serverSend({ type: 'message', message: msg(3) });
    expect(s.messages('c1').map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('de-duplicates by client_msg_id: ack and echo of my message show once', async () => {
    const { s } = make();
    const ws = await connectOpen(s);
    const id = s.sendMessage('c1', 'hi bob', ME);
    expect(s.messages('c1')).toHaveLength(1);
    expect(s.messages('c1')[0]).toMatchObject({ pending: true, text: 'hi bob', client_msg_id: id });
    const server = msg(7, { sender: ME, text: 'hi bob', client_msg_id: id, id: 'srv7' });
    ws.serverSend({ type: 'message', message: server }); // the broadcast to my own socket
    ws.serverSend({ type: 'ack', client_msg_id: id, message: server });
    ws.serverSend({ type: 'message', message: server }); // and once more, for good measure
    const list = s.messages('c1');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: 'srv7', seq: 7, pending: false, client_msg_id: id });
    expect(s.outbox).toHaveLength(0);
  });

  it('de-duplicates by seq and keeps the newest edit', async () => {
    const { s } = make();
    const ws = await connectOpen(s);
    ws.serverSend({ type: 'message', message: msg(1) });
    ws.serverSend({ type: 'message_edited', message: msg(1, { text: 'edited', edited_at: '2030-01-01T00:00:00Z' }) });
    ws.serverSend({ type: 'message', message: msg(1) }); // a stale replay must not undo the edit
    expect(s.messages('c1')).toHaveLength(1);
    expect(s.messages('c1')[0].text).toBe('edited');
    ws.serverSend({ type: 'message_deleted', chat_id: 'c1', message_id: 'm1' });
    expect(s.messages('c1')[0]).toMatchObject({ deleted: true, text: '' });
  });

  it('holds messages typed offline and sends each exactly once when back', async () => {
    const { s } = make();
    s.connect();
    await flush();
    const ws1 = FakeWebSocket.last();
    ws1.serverDrop(); // never opened: offline
    await flush();
    const a = s.sendMessage('c1', 'first', ME);
    const b = s.sendMessage('c1', 'second', ME);
    expect(s.outbox.map((o) => o.client_msg_id)).toEqual([a, b]);
    expect(s.messages('c1').every((m) => m.pending)).toBe(true);

    await vi.advanceTimersByTimeAsync(100);
    const ws2 = FakeWebSocket.last();
    ws2.serverOpen();
    expect(ws2.framesOfType('send')).toEqual([
      { type: 'send', chat_id: 'c1', text: 'first', client_msg_id: a },
      { type: 'send', chat_id: 'c1', text: 'second', client_msg_id: b },
    ]);
    ws2.serverSend({ type: 'ack', client_msg_id: a, message: msg(1, { sender: ME, text: 'first', client_msg_id: a }) });
    ws2.serverSend({ type: 'ack', client_msg_id: b, message: msg(2, { sender: ME, text: 'second', client_msg_id: b }) });
    expect(s.outbox).toHaveLength(0);

    // Another drop: nothing is sent again.
    ws2.serverDrop();
    await flush();
    await vi.advanceTimersByTimeAsync(100);
    const ws3 = FakeWebSocket.last();
    ws3.serverOpen();
    expect(ws3.framesOfType('send')).toEqual([]);
    expect(s.messages('c1').map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('re-sends an unacknowledged message after a drop with the same client_msg_id', async () => {
    const { s } = make();
    const ws1 = await connectOpen(s);
    const id = s.sendMessage('c1', 'maybe lost', ME);
    expect(ws1.framesOfType('send')).toHaveLength(1);
    ws1.serverDrop();
    await flush();
    await vi.advanceTimersByTimeAsync(100);
    const ws2 = FakeWebSocket.last();
    ws2.serverOpen();
    expect(ws2.framesOfType('send')).toEqual([{ type: 'send', chat_id: 'c1', text: 'maybe lost', client_msg_id: id }]);
  });

  it('applies read receipts and typing, and queues reads made offline', async () => {
    const { s } = make({ now: () => Date.now() });
    const ws = await connectOpen(s);
    ws.serverSend({ type: 'message', message: msg(1, { sender: ME }) });
    ws.serverSend({ type: 'message', message: msg(2, { sender: ME }) });
    ws.serverSend({ type: 'read', chat_id: 'c1', user_id: 'bob', seq: 1 });
    expect(s.messages('c1').map((m) => m.read_by)).toEqual([['bob'], []]);
    ws.serverSend({ type: 'typing', chat_id: 'c1', user_id: 'bob' });
    expect(s.typingUsers('c1')).toEqual(['bob']);
    vi.advanceTimersByTime(6000);
    expect(s.typingUsers('c1')).toEqual([]);

    s.markRead('c1', 2);
    expect(ws.framesOfType('read')).toEqual([{ type: 'read', chat_id: 'c1', seq: 2 }]);
    s.markRead('c1', 2); // not again
    expect(ws.framesOfType('read')).toHaveLength(1);
    ws.serverDrop();
    await flush();
    s.markRead('c1', 3);
    await vi.advanceTimersByTimeAsync(100);
    const ws2 = FakeWebSocket.last();
    ws2.serverOpen();
    expect(ws2.framesOfType('read')).toEqual([{ type: 'read', chat_id: 'c1', seq: 3 }]);
  });

  it('tolerates keepalive and junk frames', async () => {
    const { s } = make();
    const ws = await connectOpen(s);
    const events: string[] = [];
    s.on((e) => events.push(e.type));
    ws.serverSend('not json');
    ws.serverSend({ type: 'ping' });
    ws.serverSend({ type: 'pong' });
    ws.serverSend({ hello: 1 });
    ws.serverSend({ type: 'something_new', x: 1 });
    ws.serverSend({ type: 'message', message: msg(1) });
    expect(ws.framesOfType('pong')).toHaveLength(1);
    expect(events).toEqual(['message']);
    expect(s.status.value).toBe('open');
  });

  it('stops for good on close()', async () => {
    const { s } = make();
    await connectOpen(s);
    s.close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(s.status.value).toBe('closed');
  });
});

describe('backoff', () => {
  it('grows exponentially, is capped and jittered within bounds', () => {
    const b = { ...DEFAULT_BACKOFF, baseMs: 500, maxMs: 15000, jitter: 0.3 };
    expect(backoffDelay(0, b, () => 1)).toBe(500);
    expect(backoffDelay(3, b, () => 1)).toBe(4000);
    expect(backoffDelay(10, b, () => 1)).toBe(15000);
    expect(backoffDelay(3, b, () => 0)).toBe(2800);
  });
});
