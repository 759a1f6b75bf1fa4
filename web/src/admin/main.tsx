import '../shared/styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router } from 'preact-iso';
import { ApiError, api } from '../shared/api';
import { here } from '../shared/nav';
import { currentUser, forget, signOut, startSession } from '../shared/session';
import { useStore } from '../shared/store';
import type { User } from '../shared/types';
import { Loading, useTitle } from '../shared/ui';
import { OrdersAdmin } from './orders';
import { ProductsAdmin } from './products';
import { UsersAdmin } from './users';

// The admin console: admins only. A guest is sent to the storefront's sign-in
// page and back; a signed-in customer sees a 403 page.
function toSignIn(): void {
  location.assign(`/signin?next=${encodeURIComponent(here())}`);
}

function Forbidden() {
  useTitle('Access denied');
  return (
    <main id="main">
      <h1>Access denied</h1>
      <p>The admin console is for administrators only. Your account cannot open it.</p>
      <p>
        <a href="/">Back to the shop</a>
      </p>
    </main>
  );
}

function NotFound() {
  useTitle('Page not found');
  return <h1>Page not found</h1>;
}

function Console({ user }: { user: User }) {
  const onSignOut = async () => {
    await signOut().catch(() => undefined);
    location.assign('/');
  };
  return (
    <LocationProvider scope="/admin">
      <header class="site-header">
        <a class="skip" href="#main">
          Skip to content
        </a>
        <a class="brand" href="/admin">
          Emporium admin
        </a>
        <nav aria-label="Admin">
          <a href="/admin/products">Products</a>
          <a href="/admin/orders">Orders</a>
          <a href="/admin/users">Users</a>
          <a href="/">Storefront</a>
          <span class="who">{user.name || user.email}</span>
          <button type="button" class="link" onClick={onSignOut}>
            Sign out
          </button>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Router onRouteChange={() => document.getElementById('main')?.focus({ preventScroll: true })}>
          <Route path="/admin" component={ProductsAdmin} />
          <Route path="/admin/products" component={ProductsAdmin} />
          <Route path="/admin/orders" component={OrdersAdmin} />
          <Route path="/admin/users" component={UsersAdmin} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </LocationProvider>
  );
}

function App() {
  const user = useStore(currentUser);
  const [checked, setChecked] = useState<User | null | 'forbidden'>(null);
  useEffect(() => {
    if (!user) {
      toSignIn();
      return;
    }
    api.get<User>('/api/users/profile').then(
      (u) => setChecked(u.role === 'admin' ? u : 'forbidden'),
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 401) {
          forget();
          toSignIn();
        } else {
          setChecked('forbidden');
        }
      },
    );
  }, [user?.id]);
  if (checked === 'forbidden') {
    return <Forbidden />;
  }
  if (!checked) {
    return (
      <main id="main">
        <h1>Emporium admin</h1>
        <Loading />
      </main>
    );
  }
  return <Console user={checked} />;
}

void startSession(toSignIn).finally(() => render(<App />, document.getElementById('app') as HTMLElement));
