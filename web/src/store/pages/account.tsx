import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, api, fieldsOf, messageOf } from '../../shared/api';
import type { FieldErrors } from '../../shared/api';
import { safeNext, sessionEnded, signIn } from '../../shared/session';
import { useStore } from '../../shared/store';
import { Alert, Field, useTitle } from '../../shared/ui';
import { mergeGuestCart } from '../cart';

// After signing in: the guest's cart joins the account's, then back to where
// the shopper was (a full load for the admin console, another bundle).
async function arrive(next: string, route: (url: string, replace?: boolean) => void, setError: (m: string) => void) {
  const problems = await mergeGuestCart().catch(() => [] as string[]);
  if (problems.length) {
    setError(`Some items could not be moved to your cart: ${problems.join('; ')}`);
    return;
  }
  if (next === '/admin' || next.startsWith('/admin/')) {
    location.assign(next);
  } else {
    route(next, true);
  }
}

export function SignIn() {
  useTitle('Sign in');
  const { query, route } = useLocation();
  const next = safeNext(query.next);
  const ended = useStore(sessionEnded);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      await signIn(email.trim(), password);
      await arrive(next, route, setError);
    } catch (err) {
      setFields(fieldsOf(err));
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong email or password.' : messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const registerHref = next === '/' ? '/register' : `/register?next=${encodeURIComponent(next)}`;
  return (
    <div class="narrow">
      <h1>Sign in</h1>
      {(query.expired || ended) && <Alert kind="info">Your session has expired. Please sign in again.</Alert>}
      {error && <Alert>{error}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" value={email} error={fields.email} onValue={setEmail} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          error={fields.password}
          onValue={setPassword}
        />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      <p>
        New to Emporium? <a href={registerHref}>Create an account</a>
      </p>
    </div>
  );
}

export function Register() {
  useTitle('Register');
  const { query, route } = useLocation();
  const next = safeNext(query.next);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const body: Record<string, string> = { email: email.trim(), password };
      if (name.trim()) {
        body.name = name.trim();
      }
      // 201 (development) or 202 (production, where the answer is the same
      // whether or not the address has an account): then sign in. A 401
      // after a 202 means the address had an account: its owner got an email.
      await api.post('/api/users/register', body, false);
      try {
        await signIn(email.trim(), password);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          setSentTo(email.trim());
          return;
        }
        throw err;
      }
      await arrive(next, route, setError);
    } catch (err) {
      const f = fieldsOf(err);
      if (err instanceof ApiError && err.status === 409) {
        f.email = 'An account with this email already exists. Sign in instead.';
      }
      setFields(f);
      setError(Object.keys(f).length ? 'Please correct the highlighted fields.' : messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const signInHref = next === '/' ? '/signin' : `/signin?next=${encodeURIComponent(next)}`;
  if (sentTo) {
    return (
      <div class="narrow">
        <h1>Check your inbox</h1>
        <Alert kind="info">We have sent a message to {sentTo}. Check your inbox.</Alert>
        <p>
          Already have an account with this address? <a href={signInHref}>Sign in to your account</a>
        </p>
      </div>
    );
  }
  return (
    <div class="narrow">
      <h1>Create an account</h1>
      {error && <Alert>{error}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <Field label="Name" name="name" autoComplete="name" value={name} error={fields.name} onValue={setName} />
        <Field label="Email" name="email" type="email" autoComplete="email" value={email} error={fields.email} onValue={setEmail} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="At least 10 characters, and not a common password."
          value={password}
          error={fields.password}
          onValue={setPassword}
        />
        <button type="submit" class="primary" disabled={busy}>
          Register
        </button>
      </form>
      <p>
        Already have an account? <a href={signInHref}>Sign in to your account</a>
      </p>
    </div>
  );
}
