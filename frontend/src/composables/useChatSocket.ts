// The chat connection: one socket per client for every chat of the user (API.md "Realtime").
// It keeps each opened chat's messages ordered by seq, de-duplicated by seq and client_msg_id,
// resumes every opened chat after a reconnect (resume {chat_id, after_seq}), asks to replay when it
// sees a gap, and holds an outbox of messages typed while offline that it sends once when back.
import { reactive, computed, type ComputedRef, type Ref } from 'vue';
import type { Chat, Message } from '@/api/types';
import {
  createReconnectingSocket,
  type Frame,
  type ReconnectingSocketOptions,
  type SocketStatus,
} from '@/lib/reconnectingSocket';

export interface LocalMessage extends Message {
  /** Not yet acknowledged by the server (still in the outbox). */
  pending?: boolean;
}

export interface OutboxItem {
  chat_id: string;
  text: string;
  client_msg_id: string;
  created_at: string;
  /** The connection number it was last written to, or 0 if never. */
  sentOn: number;
}

export interface ChatLog {
  chatId: string;
  /** Confirmed messages, ascending by seq, one per seq. */
  messages: LocalMessage[];
  maxSeq: number;
  minSeq: number;
  /** Resume this chat after reconnects (it has been opened and its history loaded). */
  tracked: boolean;
  /** user_id → time (ms) until which they count as typing. */
  typing: Record<string, number>;
  /** Highest seq we told the server we read. */
  readSent: number;
  /** A read we could not send while offline. */
  readPending: number;
}

export type ChatEvent =
  | { type: 'message'; message: Message; added: boolean }
  | { type: 'message_edited'; message: Message }
  | { type: 'message_deleted'; chat_id: string; message_id: string }
  | { type: 'read'; chat_id: string; user_id: string; seq: number }
  | { type: 'typing'; chat_id: string; user_id: string }
  | { type: 'chat_added'; chat: Chat }
  | { type: 'error'; code: string; message: string }
  | { type: 'open'; reconnected: boolean };

export interface ChatSocketOptions
  extends Omit<ReconnectingSocketOptions, 'onOpen' | 'onFrame' | 'onClose'> {
  /** Called when an attempt fails before opening, e.g. to refresh an expired token. */
  onConnectFailure?: () => void | Promise<void>;
  newId?: () => string;
  now?: () => number;
  typingTtlMs?: number;
  typingThrottleMs?: number;
}

export interface ChatSocket {
  status: Ref<SocketStatus>;
  online: ComputedRef<boolean>;
  outbox: OutboxItem[];
  connect(): void;
  close(): void;
  /** The chat's log (created on first use). */
  log(chatId: string): ChatLog;
  /** Confirmed messages plus this chat's outbox, in display order. */
  messages(chatId: string): LocalMessage[];
  /** Adds or updates a message; returns whether it was new. */
  ingest(message: Message): boolean;
  /** Marks a chat as opened so it is resumed after every reconnect. */
  track(chatId: string): void;
  untrack(chatId: string): void;
  /** Queues a message; it is written now if the socket is open, else when it opens. */
  sendMessage(chatId: string, text: string, sender: { id: string; username: string }): string;
  markRead(chatId: string, seq: number): void;
  typing(chatId: string): void;
  typingUsers(chatId: string): string[];
  on(fn: (ev: ChatEvent) => void): () => void;
  /** Drops every log and the outbox (logout). */
  reset(): void;
}

function defaultId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return 'c-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
}

export function useChatSocket(opts: ChatSocketOptions): ChatSocket {
  const newId = opts.newId ?? defaultId;
  const now = opts.now ?? (() => Date.now());
  const typingTtl = opts.typingTtlMs ?? 5000;
  const typingThrottle = opts.typingThrottleMs ?? 2500;

  const logs = reactive(new Map<string, ChatLog>()) as Map<string, ChatLog>;
  const outbox = reactive<OutboxItem[]>([]) as OutboxItem[];
  const senders = new Map<string, { id: string; username: string }>();
  const listeners = new Set<(ev: ChatEvent) => void>();
  const lastTypingSent = new Map<string, number>();
  // Gap recovery: the after_seq we last asked to replay from, per chat, on this connection.
  const resumeAsked = new Map<string, number>();
  let connection = 0;
  let everOpened = false;

  const socket = createReconnectingSocket({
    ...opts,
    onOpen,
    onFrame,
    onClose: async ({ wasOpen }) => {
      if (!wasOpen) await opts.onConnectFailure?.();
    },
  });

  function emit(ev: ChatEvent) {
    for (const fn of listeners) {
      try {
        fn(ev);
      } catch (e) {
        console.error(e);
      }
    }
  }

  function log(chatId: string): ChatLog {
    let l = logs.get(chatId);
    if (!l) {
      logs.set(chatId, {
        chatId,
        messages: [],
        maxSeq: 0,
        minSeq: 0,
        tracked: false,
        typing: {},
        readSent: 0,
        readPending: 0,
      });
      l = logs.get(chatId)!;
    }
    return l;
  }

  function removeFromOutbox(clientMsgId: string) {
    const i = outbox.findIndex((o) => o.client_msg_id === clientMsgId);
    if (i >= 0) outbox.splice(i, 1);
  }

  function mergeInto(target: LocalMessage, m: Message) {
    // Keep the newest view of the message: edits and deletes only move forward.
    const readBy = new Set([...(target.read_by ?? []), ...(m.read_by ?? [])]);
    if (m.deleted) {
      target.deleted = true;
      target.text = '';
    } else if (!target.deleted) {
      if (m.edited_at && (!target.edited_at || m.edited_at >= target.edited_at)) {
        target.text = m.text;
        target.edited_at = m.edited_at;
      } else if (!target.edited_at) {
        target.text = m.text;
      }
    }
    target.read_by = [...readBy];
    target.pending = false;
  }

  function ingest(m: Message): boolean {
    if (!m || !m.chat_id || typeof m.seq !== 'number') return false;
    if (m.client_msg_id) removeFromOutbox(m.client_msg_id);
    const l = log(m.chat_id);
    const list = l.messages;
    // By seq: the server's order and identity.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].seq < m.seq) lo = mid + 1;
      else hi = mid;
    }
    if (lo < list.length && list[lo].seq === m.seq) {
      mergeInto(list[lo], m);
      return false;
    }
    // By client_msg_id, in case the same message came back under another shape.
    if (m.client_msg_id) {
      const same = list.find((x) => x.client_msg_id === m.client_msg_id);
      if (same) {
        mergeInto(same, m);
        return false;
      }
    }
    const copy: LocalMessage = {
      ...m,
      read_by: [...(m.read_by ?? [])],
      text: m.deleted ? '' : m.text,
      pending: false,
    };
    list.splice(lo, 0, copy);
    const prevMax = l.maxSeq;
    l.maxSeq = Math.max(l.maxSeq, m.seq);
    l.minSeq = l.minSeq === 0 ? m.seq : Math.min(l.minSeq, m.seq);
    if (m.sender?.id) delete l.typing[m.sender.id];
    // A gap after what we had: ask the server to replay it (once per starting point).
    if (l.tracked && prevMax > 0 && m.seq > prevMax + 1 && socket.isOpen()) {
      if (resumeAsked.get(l.chatId) !== prevMax) {
        resumeAsked.set(l.chatId, prevMax);
        socket.send({ type: 'resume', chat_id: l.chatId, after_seq: prevMax });
      }
    }
    return true;
  }

  function writeOutbox(item: OutboxItem) {
    if (socket.send({ type: 'send', chat_id: item.chat_id, text: item.text, client_msg_id: item.client_msg_id })) {
      item.sentOn = connection;
    }
  }

  function onOpen() {
    connection += 1;
    resumeAsked.clear();
    const reconnected = everOpened;
    everOpened = true;
    for (const l of logs.values()) {
      if (l.tracked) {
        socket.send({ type: 'resume', chat_id: l.chatId, after_seq: l.maxSeq });
      }
    }
    // Each queued message is written once per connection; the server de-duplicates by
    // client_msg_id if an earlier write did arrive before the drop.
    for (const item of [...outbox]) {
      if (item.sentOn !== connection) writeOutbox(item);
    }
    for (const l of logs.values()) {
      if (l.readPending > l.readSent) {
        const seq = l.readPending;
        if (socket.send({ type: 'read', chat_id: l.chatId, seq })) l.readSent = seq;
      }
    }
    emit({ type: 'open', reconnected });
  }

  function onFrame(f: Frame) {
    switch (f.type) {
      case 'ack': {
        const m = f.message as Message | undefined;
        if (typeof f.client_msg_id === 'string') removeFromOutbox(f.client_msg_id);
        if (m) {
          const added = ingest(m);
          emit({ type: 'message', message: m, added });
        }
        break;
      }
      case 'message': {
        const m = f.message as Message | undefined;
        if (!m) break;
        const added = ingest(m);
        emit({ type: 'message', message: m, added });
        break;
      }
      case 'message_edited': {
        const m = f.message as Message | undefined;
        if (!m) break;
        ingest(m);
        emit({ type: 'message_edited', message: m });
        break;
      }
      case 'message_deleted': {
        const chatId = String(f.chat_id ?? '');
        const id = String(f.message_id ?? '');
        const l = logs.get(chatId);
        const m = l?.messages.find((x) => x.id === id);
        if (m) {
          m.deleted = true;
          m.text = '';
        }
        emit({ type: 'message_deleted', chat_id: chatId, message_id: id });
        break;
      }
      case 'read': {
        const chatId = String(f.chat_id ?? '');
        const userId = String(f.user_id ?? '');
        const seq = Number(f.seq ?? 0);
        const l = logs.get(chatId);
        if (l && userId) {
          for (let i = l.messages.length - 1; i >= 0; i--) {
            const m = l.messages[i];
            if (m.seq > seq) continue;
            if (m.read_by.includes(userId)) break; // everything older is read by them already
            m.read_by.push(userId);
          }
        }
        emit({ type: 'read', chat_id: chatId, user_id: userId, seq });
        break;
      }
      case 'typing': {
        const chatId = String(f.chat_id ?? '');
        const userId = String(f.user_id ?? '');
        if (chatId && userId) log(chatId).typing[userId] = now() + typingTtl;
        emit({ type: 'typing', chat_id: chatId, user_id: userId });
        break;
      }
      case 'chat_added': {
        if (f.chat) emit({ type: 'chat_added', chat: f.chat as Chat });
        break;
      }
      case 'error': {
        emit({ type: 'error', code: String(f.code ?? 'error'), message: String(f.message ?? '') });
        break;
      }
      default:
        break; // unknown frames are ignored: newer servers may send more
    }
  }

  function messages(chatId: string): LocalMessage[] {
    const l = logs.get(chatId);
    const confirmed = l ? l.messages : [];
    const pending: LocalMessage[] = outbox
      .filter((o) => o.chat_id === chatId)
      .map((o) => ({
        id: 'local:' + o.client_msg_id,
        chat_id: o.chat_id,
        seq: 0,
        sender: senders.get(o.client_msg_id) ?? { id: '', username: '' },
        text: o.text,
        client_msg_id: o.client_msg_id,
        created_at: o.created_at,
        edited_at: null,
        deleted: false,
        read_by: [],
        pending: true,
      }));
    return pending.length ? [...confirmed, ...pending] : confirmed;
  }

  return {
    status: socket.status,
    online: computed(() => socket.status.value === 'open'),
    outbox,
    connect: () => socket.connect(),
    close: () => socket.close(),
    log,
    messages,
    ingest,
    track(chatId) {
      const l = log(chatId);
      const wasTracked = l.tracked;
      l.tracked = true;
      if (!wasTracked && socket.isOpen()) {
        socket.send({ type: 'resume', chat_id: chatId, after_seq: l.maxSeq });
      }
    },
    untrack(chatId) {
      const l = logs.get(chatId);
      if (l) l.tracked = false;
    },
    sendMessage(chatId, text, sender) {
      const item: OutboxItem = {
        chat_id: chatId,
        text,
        client_msg_id: newId(),
        created_at: new Date(now()).toISOString(),
        sentOn: 0,
      };
      senders.set(item.client_msg_id, sender);
      outbox.push(item);
      // Write the reactive copy so sentOn is tracked.
      writeOutbox(outbox[outbox.length - 1]);
      return item.client_msg_id;
    },
    markRead(chatId, seq) {
      const l = log(chatId);
      if (seq <= l.readSent) return;
      if (socket.send({ type: 'read', chat_id: chatId, seq })) {
        l.readSent = seq;
      } else {
        l.readPending = Math.max(l.readPending, seq);
      }
    },
    typing(chatId) {
      const t = now();
      const last = lastTypingSent.get(chatId) ?? -Infinity;
      if (t - last < typingThrottle) return;
      if (socket.send({ type: 'typing', chat_id: chatId })) lastTypingSent.set(chatId, t);
    },
    typingUsers(chatId) {
      const l = logs.get(chatId);
      if (!l) return [];
      const t = now();
      return Object.entries(l.typing)
        .filter(([, until]) => until > t)
        .map(([id]) => id);
    },
    on(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    reset() {
      logs.clear();
      outbox.splice(0, outbox.length);
      senders.clear();
      everOpened = false;
    },
  };
}
