// A small typed fetch wrapper used by every store. It adds the bearer token, turns error bodies
// ({"error":{"code","message"}}) into ApiError, and on a 401 refreshes the session once
// (single-flight: concurrent 401s share one refresh) and retries the request once.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** True when the request never reached the server (offline, DNS, CORS…). */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

export interface AuthHooks {
  /** The current access token, or null when signed out. */
  getToken(): string | null;
  /** Obtains a new access token; resolves true on success. Called at most once per 401. */
  refresh(): Promise<boolean>;
  /** Called when a request stays unauthorized after a refresh attempt. */
  onUnauthorized?(): void;
}

export interface RequestOptions {
  /** JSON body; objects are serialised, undefined sends no body. */
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  /** Send the Authorization header and refresh on 401 (default true). */
  auth?: boolean;
  /** Send cookies (needed for /auth/refresh and /auth/logout). */
  credentials?: RequestCredentials;
  signal?: AbortSignal;
  /** Return the raw Response instead of parsing JSON (e.g. text/calendar). */
  raw?: boolean;
}

export interface ApiClientOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  auth?: AuthHooks;
}

export interface ApiClient {
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  get<T>(path: string, opts?: RequestOptions): Promise<T>;
  post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>;
  patch<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>;
  del<T = void>(path: string, opts?: RequestOptions): Promise<T>;
  setAuth(hooks: AuthHooks | undefined): void;
  /** Runs the shared refresh (single-flight). */
  refreshOnce(): Promise<boolean>;
}

function buildUrl(base: string, path: string, query?: RequestOptions['query']): string {
  let url = base + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  return url;
}

async function toApiError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || 'Request failed';
  try {
    const text = await res.text();
    if (text) {
      const body = JSON.parse(text) as Partial<{ error: { code?: string; message?: string } }>;
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    }
  } catch {
    /* not JSON: keep the status-derived code */
  }
  return new ApiError(res.status, code, message);
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const base = options.baseUrl ?? '';
  const doFetch: typeof fetch = options.fetch ?? ((...a) => globalThis.fetch(...a));
  let auth = options.auth;
  let inflightRefresh: Promise<boolean> | null = null;

  function refreshOnce(): Promise<boolean> {
    if (!auth) return Promise.resolve(false);
    if (!inflightRefresh) {
      const hooks = auth;
      inflightRefresh = hooks
        .refresh()
        .catch(() => false)
        .finally(() => {
          inflightRefresh = null;
        });
    }
    return inflightRefresh;
  }

  async function send(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const useAuth = opts.auth !== false;
    const token = useAuth ? auth?.getToken() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    try {
      return await doFetch(buildUrl(base, path, opts.query), {
        method,
        headers,
        body,
        credentials: opts.credentials ?? 'same-origin',
        signal: opts.signal,
      });
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') throw e;
      throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection.');
    }
  }

  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const useAuth = opts.auth !== false;
    // Remember which token the request went out with: if another request already refreshed
    // meanwhile, retry with the new token instead of refreshing again.
    const sentWith = useAuth ? (auth?.getToken() ?? null) : null;
    let res = await send(method, path, opts);
    if (res.status === 401 && useAuth && auth) {
      const current = auth.getToken();
      const ok = current && current !== sentWith ? true : await refreshOnce();
      if (ok) {
        res = await send(method, path, opts);
      }
      if (res.status === 401) {
        const err = await toApiError(res);
        auth.onUnauthorized?.();
        throw err;
      }
    }
    if (!res.ok) throw await toApiError(res);
    if (opts.raw) return res as unknown as T;
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  return {
    request,
    get: (path, opts) => request('GET', path, opts),
    post: (path, body, opts) => request('POST', path, { ...opts, body }),
    patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
    del: (path, opts) => request('DELETE', path, opts),
    setAuth(hooks) {
      auth = hooks;
    },
    refreshOnce,
  };
}

/** The app's client; the auth store installs its hooks at start-up. */
export const api = createApiClient();
