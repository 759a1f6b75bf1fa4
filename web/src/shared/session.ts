// The signed-in user's public details (id, name, email, role) and when the
// access token expires. The tokens themselves live only in HttpOnly cookies:
// the session cookie (access token) and the refresh cookie, which
// `POST /api/users/refresh` with `{}` rotates. The token is refreshed shortly
// before it expires; a 401 that a refresh does not cure ends the session.
import { ApiError, request, setAuthHooks } from './api';
import { Store } from './store';
import type { LoginAnswer, User } from './types';

const USER_KEY = 'emporium.user';
const EXPIRES_KEY = 'emporium.expiresAt';
// When a tab last rotated the tokens (ms since the epoch): tabs share the
// cookies, so a tab that finds a rotation this recent keeps its result
// instead of presenting the refresh token again (which the API would take
// as reuse and end the login).
const ROTATED_KEY = 'emporium.rotatedAt';
const ROTATION_SHARED_MS = 10_000;

function readUser(): User | null {
  try {
    const raw = localStorage.getItem(USER_KEY);
    return raw ? (JSON.parse(raw) as User) : null;
  } catch {
    return null;
  }
}

export const currentUser = new Store<User | null>(readUser());

// True once a stored login could not be renewed (the sign-in page says so).
export const sessionEnded = new Store<boolean>(false);

let timer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;

function schedule(expiresInMs: number): void {
  clearTimeout(timer);
  const lead = Math.min(60_000, expiresInMs * 0.2);
  timer = setTimeout(() => void refresh(), Math.max(500, expiresInMs - lead));
}

function remember(answer: LoginAnswer): void {
  const user: User = {
    id: answer.user.id,
    email: answer.user.email,
    name: answer.user.name,
    role: answer.user.role,
  };
  localStorage.setItem(USER_KEY, JSON.stringify(user));
  localStorage.setItem(EXPIRES_KEY, String(Date.now() + answer.expiresIn * 1000));
  localStorage.setItem(ROTATED_KEY, String(Date.now()));
  schedule(answer.expiresIn * 1000);
  currentUser.set(user);
}

export function forget(): void {
  clearTimeout(timer);
  localStorage.removeItem(USER_KEY);
  localStorage.removeItem(EXPIRES_KEY);
  localStorage.removeItem(ROTATED_KEY);
  if (currentUser.get() !== null) {
    currentUser.set(null);
  }
}

// Runs `body` while no other tab of this origin runs it (the Web Locks API;
// directly where a browser has none).
function exclusively<T>(body: () => Promise<T>): Promise<T> {
  return navigator.locks
    ? (navigator.locks.request('emporium-refresh', body) as Promise<T>)
    : body();
}

// Whether another tab rotated the tokens a moment ago; if so, takes its expiry.
function rotatedElsewhere(): boolean {
  const at = Number(localStorage.getItem(ROTATED_KEY) ?? 0);
  const expiresAt = Number(localStorage.getItem(EXPIRES_KEY) ?? 0);
  if (Date.now() - at > ROTATION_SHARED_MS || expiresAt <= Date.now()) {
    return false;
  }
  schedule(expiresAt - Date.now());
  return true;
}

// Rotates the tokens from the refresh cookie, once across the open tabs;
// false when the login is over.
export function refresh(): Promise<boolean> {
  if (!refreshing) {
    refreshing = exclusively(async () => {
      try {
        if (rotatedElsewhere()) {
          return true;
        }
        remember((await request<LoginAnswer>('POST', '/api/users/refresh', {}, false)).body);
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status > 0) {
          if (currentUser.get() !== null) {
            sessionEnded.set(true);
          }
          forget();
        }
        return false;
      } finally {
        refreshing = null;
      }
    });
  }
  return refreshing;
}

export async function signIn(email: string, password: string): Promise<User> {
  remember((await request<LoginAnswer>('POST', '/api/users/login', { email, password }, false)).body);
  sessionEnded.set(false);
  return currentUser.get() as User;
}

export async function signOut(): Promise<void> {
  try {
    await request('POST', '/api/users/logout', {}, false);
  } finally {
    forget();
  }
}

// Where to go after signing in: a same-site path only.
export function safeNext(next: string | undefined, fallback = '/'): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.includes('\\')
    ? next
    : fallback;
}

// Wires the API's 401 handling to this session and resumes a stored one:
// refreshes now when the token is (nearly) expired, else when it is due.
// `expired` is called with the path to come back to after signing in.
export async function startSession(expired: () => void): Promise<void> {
  setAuthHooks(refresh, () => {
    forget();
    expired();
  });
  if (currentUser.get() === null) {
    return;
  }
  const left = Number(localStorage.getItem(EXPIRES_KEY) ?? 0) - Date.now();
  if (left > 5_000) {
    schedule(left);
    return;
  }
  await refresh();
}
