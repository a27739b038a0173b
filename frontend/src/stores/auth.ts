// The session: the access token lives only in memory (this store). The refresh token is an
// HttpOnly cookie scoped to /api/v1/auth that scripts cannot read; if a server also returns it in
// the body we keep that copy in a closure variable only as a fallback — never in any storage.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, ApiError, type ApiClient } from '@/api/client';
import type { TokenPair, User } from '@/api/types';

const REFRESH_MARGIN_MS = 30_000;

export const useAuthStore = defineStore('auth', () => {
  const accessToken = ref<string | null>(null);
  const user = ref<User | null>(null);
  const expiresAt = ref(0);
  const bootstrapped = ref(false);
  let client: ApiClient = api;
  let refreshTokenFallback: string | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let bootstrapping: Promise<void> | null = null;
  const expiredHandlers = new Set<() => void>();
  const logoutHandlers = new Set<() => void>();

  const isAuthenticated = computed(() => !!accessToken.value && !!user.value);

  function clearTimer() {
    if (refreshTimer !== null) {
      clearTimeout(refreshTimer);
      refreshTimer = null;
    }
  }

  function applyTokens(pair: TokenPair) {
    accessToken.value = pair.access_token;
    if (pair.refresh_token) refreshTokenFallback = pair.refresh_token;
    if (pair.user) user.value = pair.user;
    const ttl = (pair.expires_in ?? 900) * 1000;
    expiresAt.value = Date.now() + ttl;
    clearTimer();
    // Refresh a little before expiry so sockets and requests rarely meet a 401.
    const wait = Math.max(5_000, ttl - REFRESH_MARGIN_MS);
    if (typeof window !== 'undefined') {
      refreshTimer = setTimeout(() => void client.refreshOnce(), wait);
    }
  }

  function clearSession() {
    clearTimer();
    accessToken.value = null;
    user.value = null;
    expiresAt.value = 0;
    refreshTokenFallback = null;
  }

  /** Ends the session; tells the app once if someone was signed in. */
  function expire() {
    const had = !!user.value;
    clearSession();
    if (had) expiredHandlers.forEach((fn) => fn());
  }

  /** Calls the refresh endpoint; used through the client's single-flight refreshOnce(). */
  async function doRefresh(): Promise<boolean> {
    const attempt = (body: Record<string, string>) =>
      client.post<TokenPair>('/api/v1/auth/refresh', body, { auth: false, credentials: 'include' });
    let pair: TokenPair;
    try {
      // The cookie first: it is always the newest token of this browser.
      pair = await attempt({});
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401 || !refreshTokenFallback) {
        // 401: the refresh token is dead (expired, revoked, reused): the session is over.
        // Anything else (network, 503) may pass: keep the session and let the caller retry.
        if (e instanceof ApiError && e.status === 401) expire();
        return false;
      }
      try {
        pair = await attempt({ refresh_token: refreshTokenFallback });
      } catch (e2) {
        if (e2 instanceof ApiError && e2.status === 401) expire();
        return false;
      }
    }
    if (!pair?.access_token) return false;
    applyTokens(pair);
    if (!user.value) {
      try {
        const me = await client.get<{ user: User }>('/api/v1/users/me');
        user.value = me.user;
      } catch {
        /* keep the token; the user loads later */
      }
    }
    return true;
  }

  function install(c: ApiClient = api) {
    client = c;
    client.setAuth({
      getToken: () => accessToken.value,
      refresh: doRefresh,
      onUnauthorized: expire,
    });
  }

  /** Restores a session from the refresh cookie once per page load. */
  function bootstrap(): Promise<void> {
    if (bootstrapped.value) return Promise.resolve();
    if (!bootstrapping) {
      bootstrapping = (async () => {
        try {
          if (!accessToken.value) await client.refreshOnce();
          if (accessToken.value && !user.value) {
            const me = await client.get<{ user: User }>('/api/v1/users/me');
            user.value = me.user;
          }
        } catch {
          clearSession();
        } finally {
          bootstrapped.value = true;
          bootstrapping = null;
        }
      })();
    }
    return bootstrapping;
  }

  async function login(loginName: string, password: string): Promise<void> {
    const pair = await client.post<TokenPair>(
      '/api/v1/auth/login',
      { login: loginName.trim(), password },
      { auth: false, credentials: 'include' },
    );
    applyTokens(pair);
    if (!user.value) {
      const me = await client.get<{ user: User }>('/api/v1/users/me');
      user.value = me.user;
    }
    bootstrapped.value = true;
  }

  async function register(username: string, email: string, password: string): Promise<void> {
    await client.post('/api/v1/auth/register', { username: username.trim(), email: email.trim(), password }, { auth: false });
    await login(email.trim(), password);
  }

  async function logout(): Promise<void> {
    const body = refreshTokenFallback ? { refresh_token: refreshTokenFallback } : {};
    try {
      if (accessToken.value) {
        await client.post('/api/v1/auth/logout', body, { credentials: 'include', auth: true });
      }
    } catch {
      /* signed out locally either way */
    }
    clearSession();
    logoutHandlers.forEach((fn) => fn());
  }

  /** A token valid for at least a few more seconds (for WebSocket URLs). */
  async function freshToken(): Promise<string> {
    if (!accessToken.value || expiresAt.value - Date.now() < 10_000) {
      await client.refreshOnce();
    }
    if (!accessToken.value) throw new Error('signed out');
    return accessToken.value;
  }

  function onExpired(fn: () => void) {
    expiredHandlers.add(fn);
    return () => expiredHandlers.delete(fn);
  }
  function onLogout(fn: () => void) {
    logoutHandlers.add(fn);
    return () => logoutHandlers.delete(fn);
  }

  return {
    accessToken,
    user,
    expiresAt,
    bootstrapped,
    isAuthenticated,
    install,
    bootstrap,
    login,
    register,
    logout,
    freshToken,
    refresh: () => client.refreshOnce(),
    onExpired,
    onLogout,
    /** Test helper: whether a body-returned refresh token is held in memory. */
    hasRefreshFallback: () => refreshTokenFallback !== null,
  };
});

/** ws:// or wss:// URL on this origin for an API socket path, with the token as query. */
export function socketUrl(path: string, token: string): string {
  const loc = typeof window !== 'undefined' ? window.location : { protocol: 'http:', host: 'localhost' };
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}${path}?access_token=${encodeURIComponent(token)}`;
}
