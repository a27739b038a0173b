// Teams: my teams with my role, join requests I sent (remembered locally: the API has no
// "my requests" list), and the open team's posts, members, requests and conferences.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '@/api/client';
import type {
  Comment,
  Conference,
  JoinRequest,
  ListResponse,
  Member,
  Post,
  Team,
  TeamRole,
  TeamWithRole,
} from '@/api/types';
import { useAuthStore } from './auth';

const enc = encodeURIComponent;

export interface PendingJoin {
  request_id: string;
  team_id: string;
  code: string;
  created_at: string;
}

function pendingKey(userId: string) {
  return `convene.pendingJoins.${userId}`;
}

export const useTeamsStore = defineStore('teams', () => {
  const auth = useAuthStore();
  const mine = ref<TeamWithRole[]>([]);
  const loaded = ref(false);
  const pending = ref<PendingJoin[]>([]);

  // The open team.
  const team = ref<Team | null>(null);
  const role = ref<TeamRole | null>(null);
  const posts = ref<Post[]>([]);
  const members = ref<Member[]>([]);
  const requests = ref<JoinRequest[]>([]);
  const conferences = ref<Conference[]>([]);
  const comments = ref<Record<string, Comment[]>>({});

  const isAdmin = computed(() => role.value === 'admin');

  function loadPending() {
    const id = auth.user?.id;
    if (!id) return;
    try {
      pending.value = JSON.parse(localStorage.getItem(pendingKey(id)) ?? '[]') as PendingJoin[];
    } catch {
      pending.value = [];
    }
  }
  function savePending() {
    const id = auth.user?.id;
    if (!id) return;
    try {
      localStorage.setItem(pendingKey(id), JSON.stringify(pending.value));
    } catch {
      /* storage full or disabled: pending state lasts this page only */
    }
  }

  async function loadMine() {
    const res = await api.get<ListResponse<TeamWithRole>>('/api/v1/teams');
    mine.value = res.items ?? [];
    loaded.value = true;
    loadPending();
    // A request that became a membership is no longer pending.
    const ids = new Set(mine.value.map((t) => t.team.id));
    const before = pending.value.length;
    pending.value = pending.value.filter((p) => !ids.has(p.team_id));
    if (pending.value.length !== before) savePending();
  }

  async function createTeam(name: string, description: string): Promise<TeamWithRole> {
    const res = await api.post<TeamWithRole>('/api/v1/teams', { name: name.trim(), description: description.trim() });
    mine.value.push(res);
    return res;
  }

  async function joinByCode(code: string): Promise<JoinRequest> {
    const res = await api.post<{ request: JoinRequest }>('/api/v1/teams/join', { code: code.trim() });
    loadPending();
    pending.value = pending.value.filter((p) => p.team_id !== res.request.team_id);
    pending.value.push({
      request_id: res.request.id,
      team_id: res.request.team_id,
      code: code.trim(),
      created_at: res.request.created_at ?? new Date().toISOString(),
    });
    savePending();
    return res.request;
  }

  function rememberPendingCode(code: string) {
    loadPending();
    if (pending.value.some((p) => p.code === code.trim())) return;
    pending.value.push({ request_id: '', team_id: '', code: code.trim(), created_at: new Date().toISOString() });
    savePending();
  }

  function dismissPending(p: PendingJoin) {
    pending.value = pending.value.filter((x) => x !== p);
    savePending();
  }

  function reset() {
    mine.value = [];
    loaded.value = false;
    pending.value = [];
    closeTeam();
  }

  // ----- the open team -----
  function closeTeam() {
    team.value = null;
    role.value = null;
    posts.value = [];
    members.value = [];
    requests.value = [];
    conferences.value = [];
    comments.value = {};
  }

  async function openTeam(teamId: string) {
    if (team.value?.id !== teamId) closeTeam();
    const res = await api.get<TeamWithRole>(`/api/v1/teams/${enc(teamId)}`);
    team.value = res.team;
    role.value = res.role;
  }

  async function updateTeam(patch: { name?: string; description?: string }) {
    if (!team.value) return;
    const res = await api.patch<TeamWithRole | { team: Team }>(`/api/v1/teams/${enc(team.value.id)}`, patch);
    if (res && 'team' in res && res.team) team.value = { ...team.value, ...res.team };
    else team.value = { ...team.value, ...patch };
  }

  async function rotateJoinCode() {
    if (!team.value) return;
    const res = await api.post<{ join_code: string }>(`/api/v1/teams/${enc(team.value.id)}/join-code`);
    team.value = { ...team.value, join_code: res.join_code };
  }

  // posts
  async function loadPosts() {
    if (!team.value) return;
    const res = await api.get<ListResponse<Post>>(`/api/v1/teams/${enc(team.value.id)}/posts`);
    posts.value = res.items ?? [];
  }
  async function createPost(text: string) {
    const res = await api.post<{ post: Post }>(`/api/v1/teams/${enc(team.value!.id)}/posts`, { text });
    posts.value.unshift(res.post);
  }
  async function editPost(postId: string, text: string) {
    const res = await api.patch<{ post: Post } | Post>(`/api/v1/teams/${enc(team.value!.id)}/posts/${enc(postId)}`, { text });
    const updated = (res as { post?: Post })?.post ?? (res as Post);
    const i = posts.value.findIndex((p) => p.id === postId);
    if (i >= 0) {
      posts.value[i] = {
        ...posts.value[i],
        ...(updated && typeof updated === 'object' && 'id' in updated ? updated : {}),
        text,
        edited_at: (updated as Post)?.edited_at ?? new Date().toISOString(),
      };
    }
  }
  async function deletePost(postId: string) {
    await api.del(`/api/v1/teams/${enc(team.value!.id)}/posts/${enc(postId)}`);
    posts.value = posts.value.filter((p) => p.id !== postId);
  }

  // comments
  function bumpCount(postId: string, by: number) {
    const p = posts.value.find((x) => x.id === postId);
    if (p) p.comment_count = Math.max(0, (p.comment_count || 0) + by);
  }
  async function loadComments(postId: string) {
    const res = await api.get<ListResponse<Comment>>(`/api/v1/teams/${enc(team.value!.id)}/posts/${enc(postId)}/comments`);
    comments.value[postId] = res.items ?? [];
    const p = posts.value.find((x) => x.id === postId);
    if (p) p.comment_count = comments.value[postId].length;
  }
  async function addComment(postId: string, text: string) {
    const res = await api.post<{ comment: Comment }>(
      `/api/v1/teams/${enc(team.value!.id)}/posts/${enc(postId)}/comments`,
      { text },
    );
    (comments.value[postId] ??= []).push(res.comment);
    bumpCount(postId, 1);
  }
  async function editComment(postId: string, commentId: string, text: string) {
    const res = await api.patch<{ comment: Comment } | Comment>(
      `/api/v1/teams/${enc(team.value!.id)}/posts/${enc(postId)}/comments/${enc(commentId)}`,
      { text },
    );
    const updated = (res as { comment?: Comment })?.comment ?? (res as Comment);
    const list = comments.value[postId] ?? [];
    const i = list.findIndex((c) => c.id === commentId);
    if (i >= 0) {
      list[i] = { ...list[i], text, edited_at: (updated as Comment)?.edited_at ?? new Date().toISOString() };
    }
  }
  async function deleteComment(postId: string, commentId: string) {
    await api.del(`/api/v1/teams/${enc(team.value!.id)}/posts/${enc(postId)}/comments/${enc(commentId)}`);
    comments.value[postId] = (comments.value[postId] ?? []).filter((c) => c.id !== commentId);
    bumpCount(postId, -1);
  }

  // members
  async function loadMembers() {
    const res = await api.get<ListResponse<Member>>(`/api/v1/teams/${enc(team.value!.id)}/members`);
    members.value = res.items ?? [];
  }
  async function addMember(email: string) {
    const res = await api.post<{ member: Member }>(`/api/v1/teams/${enc(team.value!.id)}/members`, { email: email.trim() });
    if (res?.member) members.value.push(res.member);
    else await loadMembers();
  }
  async function setRole(userId: string, newRole: TeamRole) {
    await api.patch(`/api/v1/teams/${enc(team.value!.id)}/members/${enc(userId)}`, { role: newRole });
    const m = members.value.find((x) => x.user.id === userId);
    if (m) m.role = newRole;
    if (userId === auth.user?.id) role.value = newRole;
  }
  async function removeMember(userId: string) {
    await api.del(`/api/v1/teams/${enc(team.value!.id)}/members/${enc(userId)}`);
    members.value = members.value.filter((x) => x.user.id !== userId);
  }
  async function leaveTeam() {
    const id = team.value!.id;
    await api.del(`/api/v1/teams/${enc(id)}/members/${enc(auth.user!.id)}`);
    mine.value = mine.value.filter((t) => t.team.id !== id);
    closeTeam();
  }

  // join requests (admins)
  async function loadRequests() {
    const res = await api.get<ListResponse<JoinRequest>>(`/api/v1/teams/${enc(team.value!.id)}/requests`);
    requests.value = (res.items ?? []).filter((r) => !r.status || r.status === 'pending');
  }
  async function decide(requestId: string, accept: boolean) {
    await api.post(`/api/v1/teams/${enc(team.value!.id)}/requests/${enc(requestId)}/${accept ? 'accept' : 'reject'}`);
    requests.value = requests.value.filter((r) => r.id !== requestId);
    if (accept) void loadMembers().catch(() => undefined);
  }

  // conferences
  async function loadConferences() {
    const res = await api.get<ListResponse<Conference>>(`/api/v1/teams/${enc(team.value!.id)}/conferences`);
    conferences.value = [...(res.items ?? [])].sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  }
  async function createConference(title: string, startsAt: Date, waitingRoom: boolean): Promise<Conference> {
    const res = await api.post<{ conference: Conference }>(`/api/v1/teams/${enc(team.value!.id)}/conferences`, {
      title: title.trim(),
      starts_at: startsAt.toISOString(),
      waiting_room: waitingRoom,
    });
    conferences.value.push(res.conference);
    return res.conference;
  }

  return {
    mine,
    loaded,
    pending,
    team,
    role,
    isAdmin,
    posts,
    members,
    requests,
    conferences,
    comments,
    loadMine,
    createTeam,
    joinByCode,
    rememberPendingCode,
    dismissPending,
    reset,
    openTeam,
    closeTeam,
    updateTeam,
    rotateJoinCode,
    loadPosts,
    createPost,
    editPost,
    deletePost,
    loadComments,
    addComment,
    editComment,
    deleteComment,
    loadMembers,
    addMember,
    setRole,
    removeMember,
    leaveTeam,
    loadRequests,
    decide,
    loadConferences,
    createConference,
  };
});
