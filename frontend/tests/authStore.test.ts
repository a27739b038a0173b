import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { createApiClient } from '@/api/client';
import { useAuthStore } from '@/stores/auth';

interface Call {
  url: string;
  method: string;
  body: unknown;
  credentials?: RequestCredentials;
  auth: string | null;
}

const USER = { id: 'u1', username: 'ana', email: 'ana@example.com', created_at: '2026-01-01T00:00:00Z' };

function server(handler: (c: Call) => Response) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const c: Call = {
      url: String(url),
      method: init?.method ?? 'GET',
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      credentials: init?.credentials,
      auth: headers.Authorization ?? null,
    };
    calls.push(c);
    return handler(c);
  });
  return { calls, client: createApiClient({ fetch: fetchMock as unknown as typeof fetch }) };
}

const ok = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
const err = (status: number, code: string) => new Response(JSON.stringify({ error: { code, message: code } }), { status });

describe('auth store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    localStorage.clear();
    sessionStorage.clear();
  });

  it('keeps tokens in memory only', async () => {
    const { client, calls } = server((c) => {
      if (c.url.endsWith('/auth/login'))
        return ok({ access_token: 'AT1', refresh_token: 'RT1', token_type: 'Bearer', expires_in: 900, user: USER });
      return err(404, 'not_found');
    });
    const auth = useAuthStore();
    auth.install(client);
    await auth.login('ana', 'secret123');
    expect(auth.accessToken).toBe('AT1');
    expect(auth.user?.username).toBe('ana');
    expect(auth.isAuthenticated).toBe(true);
    expect(calls[0].credentials).toBe('include');
    const stored = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie;
    expect(stored).not.toContain('AT1');
    expect(stored).not.toContain('RT1');
    expect(auth.hasRefreshFallback()).toBe(true);
  });

  it('refreshes from the HttpOnly cookie (credentials: include, no token in the body)', async () => {
    const { client, calls } = server((c) => {
      if (c.url.endsWith('/auth/refresh')) return ok({ access_token: 'AT2', expires_in: 900 });
      if (c.url.endsWith('/users/me')) return c.auth === 'Bearer AT2' ? ok({ user: USER }) : err(401, 'unauthenticated');
      return err(404, 'not_found');
    });
    const auth = useAuthStore();
    auth.install(client);
    await auth.bootstrap();
    expect(auth.isAuthenticated).toBe(true);
    const refresh = calls.find((c) => c.url.endsWith('/auth/refresh'))!;
    expect(refresh.method).toBe('POST');
    expect(refresh.credentials).toBe('include');
    expect(refresh.body).toEqual({});
  });

  it('on 401 from any call refreshes once and retries', async () => {
    let valid = 'AT1';
    const { client, calls } = server((c) => {
      if (c.url.endsWith('/auth/login')) return ok({ access_token: 'AT1', expires_in: 900, user: USER });
      if (c.url.endsWith('/auth/refresh')) {
        valid = 'AT2';
        return ok({ access_token: 'AT2', expires_in: 900, user: USER });
      }
      return c.auth === `Bearer ${valid}` ? ok({ items: [] }) : err(401, 'unauthenticated');
    });
    const auth = useAuthStore();
    auth.install(client);
    await auth.login('ana', 'secret123');
    // Make the refresh the thing that fixes it:
    valid = 'AT-expired';
    const res = await client.get<{ items: unknown[] }>('/api/v1/teams');
    expect(res.items).toEqual([]);
    expect(calls.filter((c) => c.url.endsWith('/auth/refresh'))).toHaveLength(1);
    expect(calls.filter((c) => c.url.endsWith('/api/v1/teams')).map((c) => c.auth)).toEqual(['Bearer AT1', 'Bearer AT2']);
    expect(auth.accessToken).toBe('AT2');
  });

  it('falls back to the in-memory refresh token only when the cookie is missing', async () => {
    const { client, calls } = server((c) => {
      if (c.url.endsWith('/auth/login')) return ok({ access_token: 'AT1', refresh_token: 'RT1', expires_in: 900, user: USER });
      if (c.url.endsWith('/auth/refresh')) {
        const body = c.body as { refresh_token?: string };
        return body.refresh_token === 'RT1' ? ok({ access_token: 'AT2', refresh_token: 'RT2', expires_in: 900 }) : err(401, 'no_refresh_token');
      }
      return err(404, 'not_found');
    });
    const auth = useAuthStore();
    auth.install(client);
    await auth.login('ana', 'secret123');
    expect(await auth.refresh()).toBe(true);
    const refreshes = calls.filter((c) => c.url.endsWith('/auth/refresh'));
    expect(refreshes.map((c) => c.body)).toEqual([{}, { refresh_token: 'RT1' }]);
    expect(auth.accessToken).toBe('AT2');
  });

  it('ends the session when refresh fails and tells the app', async () => {
    const { client } = server((c) => {
      if (c.url.endsWith('/auth/login')) return ok({ access_token: 'AT1', expires_in: 900, user: USER });
      if (c.url.endsWith('/auth/refresh')) return err(401, 'refresh_revoked');
      return err(401, 'unauthenticated');
    });
    const auth = useAuthStore();
    auth.install(client);
    const expired = vi.fn();
    auth.onExpired(expired);
    await auth.login('ana', 'secret123');
    await expect(client.get('/api/v1/teams')).rejects.toMatchObject({ status: 401 });
    expect(auth.isAuthenticated).toBe(false);
    expect(auth.accessToken).toBeNull();
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('logs out through the API with the cookie and forgets the session', async () => {
    const { client, calls } = server((c) => {
      if (c.url.endsWith('/auth/login')) return ok({ access_token: 'AT1', expires_in: 900, user: USER });
      if (c.url.endsWith('/auth/logout')) return new Response(null, { status: 204 });
      return err(404, 'not_found');
    });
    const auth = useAuthStore();
    auth.install(client);
    const onLogout = vi.fn();
    auth.onLogout(onLogout);
    await auth.login('ana', 'secret123');
    await auth.logout();
    const logout = calls.find((c) => c.url.endsWith('/auth/logout'))!;
    expect(logout.credentials).toBe('include');
    expect(logout.auth).toBe('Bearer AT1');
    expect(auth.accessToken).toBeNull();
    expect(auth.user).toBeNull();
    expect(onLogout).toHaveBeenCalled();
  });
});
