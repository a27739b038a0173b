// Chats: the list (by latest activity, unread counts), members, history over HTTP, and live
// events through the one chat socket.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api } from '@/api/client';
import type { Chat, ChatDetail, ListResponse, Message, UserRef } from '@/api/types';
import { useChatSocket, type ChatSocket } from '@/composables/useChatSocket';
import type { WebSocketCtor } from '@/lib/reconnectingSocket';
import { socketUrl, useAuthStore } from './auth';

const PAGE = 50;

function activity(c: Chat): string {
  return c.last_message?.created_at ?? c.created_at ?? '';
}

export const useChatsStore = defineStore('chats', () => {
  const auth = useAuthStore();
  const chats = ref<Chat[]>([]);
  const loaded = ref(false);
  const members = ref<Record<string, UserRef[]>>({});
  const hasOlder = ref<Record<string, boolean>>({});
  const activeChatId = ref<string | null>(null);
  const socket = shallowRef<ChatSocket | null>(null);
  let socketImpl: WebSocketCtor | undefined;

  const sorted = computed(() => [...chats.value].sort((a, b) => activity(b).localeCompare(activity(a))));
  const unreadTotal = computed(() => chats.value.reduce((n, c) => n + (c.unread_count || 0), 0));

  function upsert(chat: Chat) {
    const i = chats.value.findIndex((c) => c.id === chat.id);
    if (i >= 0) chats.value[i] = { ...chats.value[i], ...chat };
    else chats.value.push(chat);
  }

  function find(chatId: string): Chat | undefined {
    return chats.value.find((c) => c.id === chatId);
  }

  function onLiveMessage(m: Message, added: boolean) {
    const chat = find(m.chat_id);
    if (!chat) {
      // A chat we do not know yet (added while offline): reload the list.
      void loadChats();
      return;
    }
    if (!chat.last_message || chat.last_message.seq <= m.seq) chat.last_message = m;
    const mine = m.sender?.id === auth.user?.id;
    if (added && !mine && activeChatId.value !== m.chat_id) chat.unread_count = (chat.unread_count || 0) + 1;
  }

  function ensureSocket(): ChatSocket {
    if (socket.value) return socket.value;
    const s = useChatSocket({
      WebSocketImpl: socketImpl,
      getUrl: async () => socketUrl('/api/v1/ws', await auth.freshToken()),
      onConnectFailure: async () => {
        // Likely an expired token; the next attempt asks for a fresh one.
        await auth.refresh();
      },
    });
    s.on((ev) => {
      switch (ev.type) {
        case 'message':
          onLiveMessage(ev.message, ev.added);
          break;
        case 'message_edited': {
          const chat = find(ev.message.chat_id);
          if (chat?.last_message?.id === ev.message.id) chat.last_message = ev.message;
          break;
        }
        case 'message_deleted': {
          const chat = find(ev.chat_id);
          if (chat?.last_message?.id === ev.message_id) chat.last_message = { ...chat.last_message, deleted: true, text: '' };
          break;
        }
        case 'chat_added':
          upsert(ev.chat);
          break;
        case 'open':
          // Unread counts and chats we missed while offline.
          if (ev.reconnected) void loadChats();
          break;
        default:
          break;
      }
    });
    socket.value = s;
    return s;
  }

  function connect() {
    ensureSocket().connect();
  }

  function disconnect() {
    socket.value?.close();
    socket.value?.reset();
    socket.value = null;
    chats.value = [];
    members.value = {};
    loaded.value = false;
  }

  async function loadChats() {
    const res = await api.get<ListResponse<Chat>>('/api/v1/chats');
    chats.value = res.items ?? [];
    loaded.value = true;
  }

  async function createChat(title: string, memberEmails: string[]): Promise<Chat> {
    const res = await api.post<{ chat: Chat }>('/api/v1/chats', {
      title,
      member_emails: memberEmails.length ? memberEmails : undefined,
    });
    upsert({ ...res.chat, last_message: res.chat.last_message ?? null, unread_count: res.chat.unread_count ?? 0 });
    return res.chat;
  }

  async function openChat(chatId: string): Promise<ChatDetail> {
    const s = ensureSocket();
    activeChatId.value = chatId;
    const detail = await api.get<ChatDetail>(`/api/v1/chats/${encodeURIComponent(chatId)}`);
    upsert({ ...detail.chat });
    members.value[chatId] = detail.members ?? [];
    const page = await api.get<ListResponse<Message>>(`/api/v1/chats/${encodeURIComponent(chatId)}/messages`, {
      query: { limit: PAGE },
    });
    const items = page.items ?? [];
    for (const m of items) s.ingest(m);
    hasOlder.value[chatId] = items.length >= PAGE && Math.min(...items.map((m) => m.seq)) > 1;
    // From now on this chat is resumed after every reconnect; track() also asks the server for
    // anything after the page we just loaded, closing the window between the two.
    s.track(chatId);
    return detail;
  }

  function closeChat(chatId: string) {
    if (activeChatId.value === chatId) activeChatId.value = null;
  }

  async function loadOlder(chatId: string): Promise<number> {
    const s = ensureSocket();
    const l = s.log(chatId);
    if (!hasOlder.value[chatId] || l.minSeq <= 1) {
      hasOlder.value[chatId] = false;
      return 0;
    }
    const page = await api.get<ListResponse<Message>>(`/api/v1/chats/${encodeURIComponent(chatId)}/messages`, {
      query: { before_seq: l.minSeq, limit: PAGE },
    });
    const items = page.items ?? [];
    let added = 0;
    for (const m of items) if (s.ingest(m)) added++;
    hasOlder.value[chatId] = items.length >= PAGE && s.log(chatId).minSeq > 1;
    return added;
  }

  function send(chatId: string, text: string) {
    const me = auth.user;
    ensureSocket().sendMessage(chatId, text, { id: me?.id ?? '', username: me?.username ?? '' });
  }

  async function edit(chatId: string, messageId: string, text: string) {
    const res = await api.patch<{ message: Message } | Message>(
      `/api/v1/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(messageId)}`,
      { text },
    );
    const m = (res as { message?: Message })?.message ?? (res as Message);
    if (m && typeof m.seq === 'number') ensureSocket().ingest(m);
  }

  async function remove(chatId: string, messageId: string) {
    await api.del(`/api/v1/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(messageId)}`);
    const m = ensureSocket().log(chatId).messages.find((x) => x.id === messageId);
    if (m) {
      m.deleted = true;
      m.text = '';
    }
  }

  function markRead(chatId: string) {
    const s = ensureSocket();
    const l = s.log(chatId);
    if (l.maxSeq > 0) s.markRead(chatId, l.maxSeq);
    const chat = find(chatId);
    if (chat) chat.unread_count = 0;
  }

  async function addMember(chatId: string, email: string) {
    await api.post(`/api/v1/chats/${encodeURIComponent(chatId)}/members`, { email: email.trim() });
    const detail = await api.get<ChatDetail>(`/api/v1/chats/${encodeURIComponent(chatId)}`);
    members.value[chatId] = detail.members ?? [];
  }

  async function leave(chatId: string) {
    const me = auth.user;
    if (!me) return;
    await api.del(`/api/v1/chats/${encodeURIComponent(chatId)}/members/${encodeURIComponent(me.id)}`);
    chats.value = chats.value.filter((c) => c.id !== chatId);
    socket.value?.untrack(chatId);
  }

  return {
    chats,
    sorted,
    loaded,
    members,
    hasOlder,
    unreadTotal,
    activeChatId,
    socket,
    find,
    connect,
    disconnect,
    ensureSocket,
    loadChats,
    createChat,
    openChat,
    closeChat,
    loadOlder,
    send,
    edit,
    remove,
    markRead,
    addMember,
    leave,
    /** Test hook: the WebSocket class to use. */
    useSocketImpl(impl: WebSocketCtor | undefined) {
      socketImpl = impl;
    },
  };
});
