import '../shared/styles.css';
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { here, navigate } from '../shared/nav';
import { currentUser, signOut, startSession } from '../shared/session';
import { Store, useStore } from '../shared/store';
import { Alert, useTitle } from '../shared/ui';
import { cart, forgetCart, itemCount, loadCart } from './cart';
import { Register, SignIn } from './pages/account';
import { CartPage, Checkout } from './pages/cart';
import { Catalog, Home, ProductPage } from './pages/catalog';
import { OrderPage, Orders } from './pages/orders';

// A one-off message shown above one page (e.g. "signed out" on the home page).
export const flash = new Store<{ text: string; at: string } | null>(null);

function Header() {
  const user = useStore(currentUser);
  const view = useStore(cart);
  const { route, query, path } = useLocation();
  const count = itemCount(view);
  const onSearch = (e: Event) => {
    e.preventDefault();
    const q = String(new FormData(e.target as HTMLFormElement).get('q') ?? '').trim();
    route(q ? `/products?q=${encodeURIComponent(q)}` : '/products');
  };
  const onSignOut = async () => {
    await signOut().catch(() => undefined);
    forgetCart();
    flash.set({ text: 'You are signed out.', at: '/' });
    route('/');
  };
  return (
    <header class="site-header">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <a class="brand" href="/">
        Emporium
      </a>
      <form class="search" role="search" onSubmit={onSearch} key={path === '/products' ? query.q : ''}>
        <label for="site-search">Search</label>
        <input id="site-search" name="q" type="search" defaultValue={query.q ?? ''} />
        <button type="submit">Go</button>
      </form>
      <nav aria-label="Account">
        <a href="/products">Products</a>
        <a href="/cart" class="cart-link">
          Cart{' '}
          <span class="count">({count})</span>
        </a>
        {user ? (
          <>
            <a href="/orders">Orders</a>
            {user.role === 'admin' && <a href="/admin">Admin</a>}
            <span class="who">{user.name || user.email}</span>
            <button type="button" class="link" onClick={onSignOut}>
              Sign out
            </button>
          </>
        ) : (
          <>
            <a href="/signin">Sign in</a>
            <a href="/register">Register</a>
          </>
        )}
      </nav>
    </header>
  );
}

function Flash() {
  const message = useStore(flash);
  const { url } = useLocation();
  return message && message.at === url ? <Alert kind="info">{message.text}</Alert> : null;
}

function NotFound() {
  useTitle('Page not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <a href="/">Go to the home page</a>.
      </p>
    </>
  );
}

// After a client-side navigation: to the top, and the focus on the new page
// (so a screen reader starts reading it).
function arrived(): void {
  scrollTo(0, 0);
  document.getElementById('main')?.focus({ preventScroll: true });
}

function App() {
  const user = useStore(currentUser);
  useEffect(() => {
    loadCart().catch(() => undefined);
  }, [user?.id]);
  return (
    <LocationProvider scope={/^\/(?!admin(\/|$))/}>
      <Header />
      <main id="main" tabIndex={-1}>
        <Flash />
        <Router onRouteChange={arrived}>
          <Route path="/" component={Home} />
          <Route path="/products" component={Catalog} />
          <Route path="/products/:id" component={ProductPage} />
          <Route path="/cart" component={CartPage} />
          <Route path="/checkout" component={Checkout} />
          <Route path="/orders" component={Orders} />
          <Route path="/orders/:id" component={OrderPage} />
          <Route path="/signin" component={SignIn} />
          <Route path="/register" component={Register} />
          <Route default component={NotFound} />
        </Router>
      </main>
      <footer class="site-footer">
        <p>Emporium: browse, check out and follow your orders in one place.</p>
      </footer>
    </LocationProvider>
  );
}

void startSession(() => {
  if (!location.pathname.startsWith('/signin')) {
    navigate(`/signin?next=${encodeURIComponent(here())}&expired=1`);
  }
}).finally(() => render(<App />, document.getElementById('app') as HTMLElement));
