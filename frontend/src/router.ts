import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { useAuthStore } from '@/stores/auth';

// Every screen is its own chunk: the first load carries only the shell.
const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/teams' },
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { guest: true } },
  { path: '/register', name: 'register', component: () => import('@/views/RegisterView.vue'), meta: { guest: true } },
  { path: '/teams', name: 'teams', component: () => import('@/views/TeamsView.vue') },
  { path: '/teams/new', name: 'team-new', component: () => import('@/views/TeamCreateView.vue') },
  { path: '/teams/join', name: 'team-join', component: () => import('@/views/TeamJoinView.vue') },
  {
    path: '/teams/:teamId',
    component: () => import('@/views/team/TeamView.vue'),
    props: true,
    children: [
      { path: '', name: 'team', redirect: (to) => ({ name: 'team-posts', params: to.params }) },
      { path: 'posts', name: 'team-posts', component: () => import('@/views/team/PostsTab.vue') },
      { path: 'participants', name: 'team-participants', component: () => import('@/views/team/ParticipantsTab.vue') },
      { path: 'requests', name: 'team-requests', component: () => import('@/views/team/RequestsTab.vue') },
      { path: 'conferences', name: 'team-conferences', component: () => import('@/views/team/ConferencesTab.vue') },
    ],
  },
  { path: '/conferences/:confId', name: 'conference', component: () => import('@/views/conference/ConferenceView.vue'), props: true, meta: { bare: true } },
  {
    path: '/chats',
    component: () => import('@/views/chat/ChatsLayout.vue'),
    children: [
      { path: '', name: 'chats', component: () => import('@/views/chat/ChatEmpty.vue') },
      { path: ':chatId', name: 'chat', component: () => import('@/views/chat/ChatView.vue'), props: true },
    ],
  },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue') },
];

export const router = createRouter({
  history: createWebHistory(),
  routes,
});

router.beforeEach(async (to) => {
  const auth = useAuthStore();
  await auth.bootstrap();
  if (to.meta.guest) {
    return auth.isAuthenticated ? { name: 'teams' } : true;
  }
  if (!auth.isAuthenticated) {
    return { name: 'login', query: to.fullPath !== '/' && to.fullPath !== '/teams' ? { next: to.fullPath } : {} };
  }
  return true;
});
