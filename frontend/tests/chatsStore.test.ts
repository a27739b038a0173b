import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Message } from '@/api/types';
import { useAuthStore } from '@/stores/auth';
import { useChatsStore } from '@/stores/chats';
import { FakeWebSocket, flush } from './support/fakeWebSocket';

const ME = { id: 'me', username: 'ana', email: 'ana@example.com' };
const BOB = { id: 'bob', username: 'bob', email: 'bob@example.com' };

function msg(chat: string, seq: number, sender = BOB): Message {
  return {
    id: `${chat}-m${seq}`,
    chat_id: chat,
    seq,
    sender,
    text: `text ${seq}`,
    client_msg_id: `${chat}-cm${seq}`,
    created_at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    edited_at: null,
    deleted: false,
    read_by: [],
  };
}

const chat = (id: string, last: Message | null, unread = 0) => ({
  id,
  title: id.toUpperCase(),
  created_by: 'me',
  created_at: '2026-01-01T00:00:00Z',
  last_message: last,
  unread_count: unread,
});

describe('chats store', () => {
  let requests: string[];

  beforeEach(() => {
    setActivePinia(createPinia());
    FakeWebSocket.reset();
    requests = [];
    // c1 has 120 messages; pages of 50, newest first as the API lists them.
    const all = Array.from({ length: 120 }, (_, i) => msg('c1', i + 1));
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: string) => {
        const url = new URL(input, 'http://localhost');
        requests.push(url.pathname + url.search);
        const j = (b: unknown) => new Response(JSON.stringify(b), { status: 200 });
        if (url.pathname === '/api/v1/auth/login') return j({ access_token: 'AT', expires_in: 900, user: ME });
        if (url.pathname === '/api/v1/chats') return j({ items: [chat('c1', all[119]), chat('c2', msg('c2', 3), 2)] });
        if (url.pathname === '/api/v1/chats/c1') return j({ chat: chat('c1', all[119]), members: [ME, BOB] });
        if (url.pathname === '/api/v1/chats/c1/messages') {
          const before = Number(url.searchParams.get('before_seq') ?? 121);
          const limit = Number(url.searchParams.get('limit') ?? 50);
          return j({ items: all.filter((m) => m.seq < before).reverse().slice(0, limit) });
        }
        return new Response(JSON.stringify({ error: { code: 'not_found', message: '' } }), { status: 404 });
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  async function ready() {
    const auth = useAuthStore();
    auth.install();
    await auth.login('ana', 'secret123');
    const chats = useChatsStore();
    chats.useSocketImpl(FakeWebSocket);
    chats.connect();
    await flush(10);
    const ws = FakeWebSocket.last();
    ws.serverOpen();
    await chats.loadChats();
    return { chats, ws };
  }

  it('lists chats by latest activity and sums unread counts', async () => {
    const { chats } = await ready();
    expect(chats.sorted.map((c) => c.id)).toEqual(['c1', 'c2']);
    // c1's last message (seq 120) is newer than c2's (seq 3)
    expect(chats.sorted[0].id).toBe('c1');
    expect(chats.unreadTotal).toBe(2);
  });

  it('opens a chat: newest page in seq order, then older pages with before_seq', async () => {
    const { chats, ws } = await ready();
    await chats.openChat('c1');
    const s = chats.socket!;
    let seqs = s.messages('c1').map((m) => m.seq);
    expect(seqs[0]).toBe(71);
    expect(seqs.at(-1)).toBe(120);
    expect(ws.framesOfType('resume')).toEqual([{ type: 'resume', chat_id: 'c1', after_seq: 120 }]);
    await chats.loadOlder('c1');
    await chats.loadOlder('c1');
    expect(requests.filter((r) => r.includes('before_seq'))).toEqual([
      '/api/v1/chats/c1/messages?before_seq=71&limit=50',
      '/api/v1/chats/c1/messages?before_seq=21&limit=50',
    ]);
    seqs = s.messages('c1').map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(chats.hasOlder.c1).toBe(false);
  });

  it('counts unread for live messages in other chats, not in the open one, and reads clear it', async () => {
    const { chats, ws } = await ready();
    await chats.openChat('c1');
    ws.serverSend({ type: 'message', message: msg('c2', 4) });
    ws.serverSend({ type: 'message', message: msg('c2', 4) }); // duplicate delivery
    ws.serverSend({ type: 'message', message: msg('c1', 121) });
    expect(chats.find('c2')!.unread_count).toBe(3);
    expect(chats.find('c1')!.unread_count).toBe(0);
    expect(chats.find('c2')!.last_message!.seq).toBe(4);
    chats.markRead('c1');
    expect(ws.framesOfType('read')).toEqual([{ type: 'read', chat_id: 'c1', seq: 121 }]);
  });
});
