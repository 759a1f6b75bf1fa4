// The one way the browser talks to the API: same-origin fetch with the
// HttpOnly session cookie, JSON bodies with `Content-Type: application/json`
// on every write, and problem+json answers turned into an ApiError that names
// the invalid fields. Tokens never reach JavaScript.

export interface FieldErrors {
  [field: string]: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly fields: FieldErrors;

  constructor(status: number, detail: string, fields: FieldErrors = {}) {
    super(detail);
    this.status = status;
    this.fields = fields;
  }
}

interface Problem {
  detail?: string;
  error?: string;
  title?: string;
  errors?: { field: string; msg: string }[];
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Answer<T> {
  body: T;
  headers: Headers;
}

// Set by the session: `onUnauthorized` tries one token refresh after a 401;
// `onExpired` runs when the retried request is refused too (the app sends
// the shopper to sign in).
let onUnauthorized: (() => Promise<boolean>) | null = null;
let onExpired: (() => void) | null = null;

export function setAuthHooks(refresh: () => Promise<boolean>, expired: () => void): void {
  onUnauthorized = refresh;
  onExpired = expired;
}

async function problemOf(res: Response): Promise<ApiError> {
  let p: Problem = {};
  try {
    p = (await res.json()) as Problem;
  } catch {
    // A non-JSON error body (a proxy's page): the status says it all.
  }
  const fields: FieldErrors = {};
  for (const e of p.errors ?? []) {
    if (!(e.field in fields)) {
      fields[e.field] = e.msg;
    }
  }
  const detail = p.detail ?? p.error ?? p.title ?? `Request failed (${res.status})`;
  return new ApiError(res.status, detail, fields);
}

async function send(method: Method, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  };
  if (method !== 'GET') {
    init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body ?? {});
  }
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, 'The shop cannot be reached. Check your connection and try again.');
  }
}

// Sends one request. With `auth`, a 401 gets one token refresh and one retry;
// a second 401 ends the session (the shopper is sent to sign in).
export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  auth = true,
): Promise<Answer<T>> {
  let res = await send(method, path, body);
  if (res.status === 401 && auth && onUnauthorized) {
    if (await onUnauthorized()) {
      res = await send(method, path, body);
    }
    if (res.status === 401) {
      onExpired?.();
    }
  }
  if (!res.ok) {
    throw await problemOf(res);
  }
  const text = await res.text();
  return { body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

export const api = {
  get: async <T>(path: string, auth = true) => (await request<T>('GET', path, undefined, auth)).body,
  post: async <T>(path: string, body: unknown = {}, auth = true) =>
    (await request<T>('POST', path, body, auth)).body,
  put: async <T>(path: string, body: unknown) => (await request<T>('PUT', path, body)).body,
  patch: async <T>(path: string, body: unknown) => (await request<T>('PATCH', path, body)).body,
  del: async <T>(path: string) => (await request<T>('DELETE', path, {})).body,
};

// A human sentence for an error, whatever threw it.
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status >= 500) {
      return 'Something went wrong on our side. Please try again in a moment.';
    }
    return e.message;
  }
  return 'Something went wrong. Please try again.';
}

export function fieldsOf(e: unknown, prefix = ''): FieldErrors {
  if (!(e instanceof ApiError)) {
    return {};
  }
  const out: FieldErrors = {};
  for (const [k, v] of Object.entries(e.fields)) {
    out[k.startsWith(prefix) ? k.slice(prefix.length) : k] = v;
  }
  return out;
}

// Total and page links of a list answer: `X-Total-Count` and RFC 8288 `Link`
// (first/prev/next/last) when the server sends them.
export interface Paging {
  total: number;
  pages: number;
  page: number;
}

export function pagingOf(headers: Headers, page: number, limit: number, fallbackCount: number): Paging {
  const totalHeader = headers.get('X-Total-Count');
  const total = totalHeader !== null ? Number(totalHeader) : fallbackCount;
  let pages = Math.max(1, Math.ceil(total / limit));
  const link = headers.get('Link');
  if (link) {
    const last = /<([^>]*)>\s*;\s*rel="?last"?/.exec(link);
    if (last) {
      const n = Number(new URL(last[1], location.origin).searchParams.get('page'));
      if (n > 0) {
        pages = n;
      }
    }
  }
  return { total, pages, page };
}
