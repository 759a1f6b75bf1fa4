import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, fieldsOf, messageOf } from '../../shared/api';
import type { FieldErrors } from '../../shared/api';
import { currentUser } from '../../shared/session';
import { useStore } from '../../shared/store';
import type { Address, CartItem, Order } from '../../shared/types';
import { Alert, Field, Loading, formatMoney, useTitle } from '../../shared/ui';
import { cart, loadCart, removeItem, setQuantity } from '../cart';

function CartRow({ item, onError }: { item: CartItem; onError: (m: string | null) => void }) {
  const [qty, setQty] = useState(String(item.quantity));
  const [busy, setBusy] = useState(false);
  useEffect(() => setQty(String(item.quantity)), [item.quantity]);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    onError(null);
    try {
      await action();
    } catch (e) {
      onError(`${item.name}: ${messageOf(e)}`);
      setQty(String(item.quantity));
    } finally {
      setBusy(false);
    }
  };
  const update = (e?: Event) => {
    e?.preventDefault();
    const n = Number(qty);
    if (!Number.isInteger(n) || n < 0) {
      onError(`${item.name}: enter a whole quantity, 0 to remove.`);
      return;
    }
    if (n !== item.quantity) {
      void run(() => setQuantity(item.productId, n));
    }
  };
  const id = `q-${item.productId}`;
  return (
    <li class="cart-row">
      <a class="name" href={`/products/${encodeURIComponent(item.productId)}`}>
        {item.name}
      </a>
      <span class="unit">{formatMoney(item.price)} each</span>
      <form class="qty" onSubmit={update} noValidate>
        <label for={id}>
          Quantity<span class="visually-hidden"> of {item.name}</span>
        </label>
        <input
          id={id}
          type="number"
          min="0"
          step="1"
          inputMode="numeric"
          value={qty}
          onInput={(e) => setQty((e.target as HTMLInputElement).value)}
          onChange={() => update()}
        />
        <button type="submit" disabled={busy}>
          Update<span class="visually-hidden"> quantity of {item.name}</span>
        </button>
      </form>
      <span class="subtotal">
        <span class="visually-hidden">Subtotal: </span>
        {formatMoney(item.subtotal)}
      </span>
      <button type="button" class="link" disabled={busy} onClick={() => void run(() => removeItem(item.productId))}>
        Remove<span class="visually-hidden"> {item.name}</span>
      </button>
    </li>
  );
}

export function CartPage() {
  useTitle('Your cart');
  const view = useStore(cart);
  const user = useStore(currentUser);
  const { route } = useLocation();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    loadCart().catch((e: unknown) => setError(messageOf(e)));
  }, []);
  const checkout = () => route(user ? '/checkout' : `/signin?next=${encodeURIComponent('/checkout')}`);
  return (
    <>
      <h1>Your cart</h1>
      {error && <Alert>{error}</Alert>}
      {!view.loaded && <Loading what="Loading your cart" />}
      {view.loaded && view.items.length === 0 && (
        <p>
          Your cart is empty. <a href="/products">Browse products</a>
        </p>
      )}
      {view.items.length > 0 && (
        <>
          <ul class="cart" role="list">
            {view.items.map((i) => (
              <CartRow key={i.productId} item={i} onError={setError} />
            ))}
          </ul>
          <p class="total">
            {view.fromServer ? 'Total' : 'Estimated total'}: <strong>{formatMoney(view.total)}</strong>
          </p>
          {!user && <p class="muted">Sign in or register at checkout; your cart comes with you.</p>}
          <button type="button" class="primary" onClick={checkout}>
            Checkout
          </button>
        </>
      )}
    </>
  );
}

const EMPTY: Address = { street: '', city: '', state: '', zipCode: '', country: '' };

const ADDRESS_FIELDS: [keyof Address, string, string][] = [
  ['street', 'Street', 'street-address'],
  ['city', 'City', 'address-level2'],
  ['state', 'State', 'address-level1'],
  ['zipCode', 'ZIP code', 'postal-code'],
  ['country', 'Country', 'country-name'],
];

export function Checkout() {
  useTitle('Checkout');
  const user = useStore(currentUser);
  const view = useStore(cart);
  const { route } = useLocation();
  const [address, setAddress] = useState<Address>(EMPTY);
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!user) {
      route(`/signin?next=${encodeURIComponent('/checkout')}`, true);
      return;
    }
    loadCart().catch((e: unknown) => setError(messageOf(e)));
  }, [user?.id]);
  if (!user) {
    return (
      <>
        <h1>Checkout</h1>
        <Loading />
      </>
    );
  }
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const order = await api.post<Order>('/api/orders', { userId: user.id, shippingAddress: address });
      await loadCart().catch(() => undefined);
      route(`/orders/${encodeURIComponent(order.id)}?placed=1`);
    } catch (err) {
      const f = fieldsOf(err, 'shippingAddress.');
      setFields(f);
      setError(Object.keys(f).length ? 'Please correct the highlighted fields.' : messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>Checkout</h1>
      <div class="checkout">
        <form onSubmit={onSubmit} noValidate aria-labelledby="ship-heading">
          <h2 id="ship-heading">Shipping address</h2>
          {error && <Alert>{error}</Alert>}
          {ADDRESS_FIELDS.map(([key, label, autocomplete]) => (
            <Field
              key={key}
              label={label}
              name={key}
              autoComplete={autocomplete}
              value={address[key]}
              error={fields[key]}
              onValue={(v) => setAddress({ ...address, [key]: v })}
            />
          ))}
          <button type="submit" class="primary" disabled={busy || view.items.length === 0}>
            Place order
          </button>
        </form>
        <section class="summary" aria-labelledby="sum-heading">
          <h2 id="sum-heading">Order summary</h2>
          {view.items.length === 0 ? (
            <p>
              Your cart is empty. <a href="/products">Browse products</a>
            </p>
          ) : (
            <>
              <ul role="list">
                {view.items.map((i) => (
                  <li key={i.productId}>
                    {i.quantity} × {i.name} <span class="muted">{formatMoney(i.subtotal)}</span>
                  </li>
                ))}
              </ul>
              <p class="total">
                Total: <strong>{formatMoney(view.total)}</strong>
              </p>
              <p>
                <a href="/cart">Change your cart</a>
              </p>
            </>
          )}
        </section>
      </div>
    </>
  );
}
