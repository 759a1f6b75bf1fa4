import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, messageOf } from '../../shared/api';
import { currentUser } from '../../shared/session';
import { useStore } from '../../shared/store';
import type { Order } from '../../shared/types';
import { Alert, Loading, Pager, StatusBadge, formatDate, formatMoney, shortId, useTitle } from '../../shared/ui';
import { useLoad } from '../../shared/hooks';
import { listOrders } from '../../shared/orders';

// Sends a guest to sign in and back; answers whether someone is signed in.
function useSignedIn(): boolean {
  const user = useStore(currentUser);
  const { route, url } = useLocation();
  useEffect(() => {
    if (!user) {
      route(`/signin?next=${encodeURIComponent(url)}`, true);
    }
  }, [user?.id]);
  return user !== null;
}

export function Orders() {
  useTitle('Your orders');
  const signedIn = useSignedIn();
  const user = useStore(currentUser);
  const { query } = useLocation();
  const page = Math.max(1, Number(query.page ?? 1) || 1);
  const list = useLoad(`${user?.id}:${page}`, () =>
    user ? listOrders(new URLSearchParams({ userId: user.id }), page) : Promise.resolve(null),
  );
  return (
    <>
      <h1>Your orders</h1>
      {!signedIn && <Loading />}
      {list.error && <Alert>{list.error}</Alert>}
      {signedIn && !list.value && !list.error && <Loading what="Loading your orders" />}
      {list.value && list.value.orders.length === 0 && (
        <p>
          You have no orders yet. <a href="/products">Start shopping</a>
        </p>
      )}
      {list.value && list.value.orders.length > 0 && (
        <>
          <ul class="orders" role="list">
            {list.value.orders.map((o) => (
              <li key={o.id}>
                <a href={`/orders/${encodeURIComponent(o.id)}`}>Order {shortId(o.id)}</a>
                <span>{formatDate(o.createdAt)}</span>
                <StatusBadge status={o.status} />
                <span>{formatMoney(o.total, o.currency)}</span>
              </li>
            ))}
          </ul>
          <Pager page={page} pages={list.value.pages} href={(p) => `/orders?page=${p}`} />
        </>
      )}
    </>
  );
}

export function OrderView({ order, onChange }: { order: Order; onChange: (o: Order) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      onChange(await api.del<Order>(`/api/orders/${encodeURIComponent(order.id)}`));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  const a = order.shippingAddress;
  return (
    <>
      <p>
        Placed {formatDate(order.createdAt)} · Status: <StatusBadge status={order.status} />
      </p>
      {error && <Alert>{error}</Alert>}
      <table class="items">
        <caption class="visually-hidden">Items in this order</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Quantity</th>
            <th scope="col">Price</th>
            <th scope="col">Subtotal</th>
          </tr>
        </thead>
        <tbody>
          {order.items.map((i) => (
            <tr key={i.productId}>
              <td>{i.productName}</td>
              <td>{i.quantity}</td>
              <td>{formatMoney(i.price, order.currency)}</td>
              <td>{formatMoney(i.subtotal, order.currency)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={3}>
              Total
            </th>
            <td>{formatMoney(order.total, order.currency)}</td>
          </tr>
        </tfoot>
      </table>
      <h2>Shipping to</h2>
      <address>
        {a.street}
        <br />
        {a.city}, {a.state} {a.zipCode}
        <br />
        {a.country}
      </address>
      {(order.status === 'pending' || order.status === 'processing') && (
        <button type="button" class="danger" disabled={busy} onClick={cancel}>
          Cancel order
        </button>
      )}
    </>
  );
}

export function OrderPage({ id }: { id: string }) {
  const signedIn = useSignedIn();
  const { query } = useLocation();
  const order = useLoad(id, () =>
    signedIn ? api.get<Order>(`/api/orders/${encodeURIComponent(id)}`) : Promise.resolve(null),
  );
  const placed = query.placed === '1';
  const title = placed ? 'Thank you for your order' : `Order ${shortId(id)}`;
  useTitle(title);
  return (
    <>
      <h1>{title}</h1>
      {placed && order.value && (
        <Alert kind="info">
          Order {shortId(order.value.id)} is confirmed. We will email you when it ships.
        </Alert>
      )}
      {order.error && <Alert>{order.error}</Alert>}
      {!order.value && !order.error && <Loading what="Loading the order" />}
      {order.value && <OrderView order={order.value} onChange={order.set} />}
      <p>
        <a href="/orders">All your orders</a>
      </p>
    </>
  );
}
