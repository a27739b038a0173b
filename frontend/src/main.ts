import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { router } from './router';
import { useAuthStore } from './stores/auth';
import { useChatsStore } from './stores/chats';
import { useTeamsStore } from './stores/teams';
import { useToastStore } from './stores/toasts';
import './styles.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);

const auth = useAuthStore();
auth.install();
auth.onExpired(() => {
  useChatsStore().disconnect();
  useTeamsStore().reset();
  useToastStore().push('Your session ended. Sign in again.', 'info');
  void router.push({ name: 'login', query: { next: router.currentRoute.value.fullPath } });
});
auth.onLogout(() => {
  useChatsStore().disconnect();
  useTeamsStore().reset();
  void router.push({ name: 'login' });
});

app.use(router);
app.mount('#app');
