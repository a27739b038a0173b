import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApiClient } from '@/api/client';

function json(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

function setup(opts: { refreshOk?: boolean; refreshDelay?: number } = {}) {
  let token = 'old';
  const calls: Array<{ url: string; auth: string | null }> = [];
  const fetchMock = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const auth = headers.Authorization ?? null;
    calls.push({ url: String(url), auth });
    if (auth !== 'Bearer new') return json(401, { error: { code: 'unauthenticated', message: 'token expired' } });
    return json(200, { ok: true, url: String(url) });
  });
  const refresh = vi.fn(async () => {
    await new Promise((r) => setTimeout(r, opts.refreshDelay ?? 5));
    if (opts.refreshOk === false) return false;
    token = 'new';
    return true;
  });
  const onUnauthorized = vi.fn();
  const client = createApiClient({
    fetch: fetchMock as unknown as typeof fetch,
    auth: { getToken: () => token, refresh, onUnauthorized },
  });
  return { client, fetchMock, refresh, onUnauthorized, calls };
}

describe('api client', () => {
  it('refreshes once on 401 and retries the request with the new token', async () => {
    const { client, refresh, calls } = setup();
    const res = await client.get<{ ok: boolean }>('/api/v1/users/me');
    expect(res.ok).toBe(true);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(calls.map((c) => c.auth)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('shares one refresh between concurrent 401s (single flight)', async () => {
    const { client, refresh, calls } = setup({ refreshDelay: 20 });
    const results = await Promise.all([
      client.get('/api/v1/teams'),
      client.get('/api/v1/chats'),
      client.get('/api/v1/users/me'),
    ]);
    expect(results).toHaveLength(3);
    expect(refresh).toHaveBeenCalledTimes(1);
    // three failed tries with the old token, three retries with the new one
    expect(calls.filter((c) => c.auth === 'Bearer old')).toHaveLength(3);
    expect(calls.filter((c) => c.auth === 'Bearer new')).toHaveLength(3);
  });

  it('gives up after one retry and reports the session as over', async () => {
    const { client, refresh, onUnauthorized, fetchMock } = setup({ refreshOk: false });
    await expect(client.get('/api/v1/teams')).rejects.toMatchObject({ status: 401 });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(fetchMock).toHaveBeenCalledTimes(1); // no retry when the refresh failed
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('does not refresh for requests sent without auth (login)', async () => {
    const { client, refresh } = setup();
    await expect(client.post('/api/v1/auth/login', { login: 'a', password: 'b' }, { auth: false })).rejects.toBeInstanceOf(ApiError);
    expect(refresh).not.toHaveBeenCalled();
  });

  it('turns error bodies into ApiError with code and message', async () => {
    const client = createApiClient({
      fetch: (async () => json(409, { error: { code: 'email_taken', message: 'email already registered' } })) as unknown as typeof fetch,
    });
    const err = (await client.post('/api/v1/auth/register', {}, { auth: false }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect(err.code).toBe('email_taken');
    expect(err.message).toBe('email already registered');
  });

  it('reports network failures as status 0', async () => {
    const client = createApiClient({
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as unknown as typeof fetch,
    });
    const err = (await client.get('/api/v1/teams').catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.isNetwork).toBe(true);
  });

  it('returns undefined for 204 and adds query parameters', async () => {
    const seen: string[] = [];
    const client = createApiClient({
      fetch: (async (url: string) => {
        seen.push(url);
        return new Response(null, { status: 204 });
      }) as unknown as typeof fetch,
    });
    const res = await client.get('/api/v1/chats/c1/messages', { query: { before_seq: 10, limit: 50, after_seq: undefined } });
    expect(res).toBeUndefined();
    expect(seen[0]).toBe('/api/v1/chats/c1/messages?before_seq=10&limit=50');
  });
});
