import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, messageOf } from '../shared/api';
import { useLoad } from '../shared/hooks';
import { listOrders } from '../shared/orders';
import type { Order, OrderStatus } from '../shared/types';
import { Alert, Loading, Pager, StatusBadge, formatDate, formatMoney, shortId, useTitle } from '../shared/ui';

const STATUSES: OrderStatus[] = ['pending', 'processing', 'shipped', 'delivered', 'cancelled'];

// The moves the order service allows from each status (cancel has its own button).
const NEXT: Record<OrderStatus, OrderStatus[]> = {
  pending: ['processing'],
  processing: ['shipped'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

function OrderRow({ order, onChanged }: { order: Order; onChanged: (o: Order, m: string) => void }) {
  const [status, setStatus] = useState<OrderStatus | ''>(NEXT[order.status][0] ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<Order>, what: string) => {
    setBusy(true);
    setError(null);
    try {
      const o = await action();
      onChanged(o, `Order ${shortId(o.id)} ${what}.`);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  const path = `/api/orders/${encodeURIComponent(order.id)}`;
  const change = (e: Event) => {
    e.preventDefault();
    if (status) {
      void run(() => api.put<Order>(`${path}/status`, { status }), `is now ${status}`);
    }
  };
  const moves = [...NEXT[order.status]];
  const id = shortId(order.id);
  return (
    <tr>
      <td>
        {id}
        {error && <p class="error">{error}</p>}
      </td>
      <td>{formatDate(order.createdAt)}</td>
      <td>{order.items.reduce((n, i) => n + i.quantity, 0)}</td>
      <td>{formatMoney(order.total, order.currency)}</td>
      <td>
        <StatusBadge status={order.status} />
      </td>
      <td>
        {moves.length > 0 && (
          <form class="inline" onSubmit={change}>
            <label class="visually-hidden" for={`st-${order.id}`}>
              New status for order {id}
            </label>
            <select id={`st-${order.id}`} value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as OrderStatus)}>
              {moves.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <button type="submit" disabled={busy}>
              Change status<span class="visually-hidden"> of order {id}</span>
            </button>
          </form>
        )}{' '}
        {(order.status === 'pending' || order.status === 'processing') && (
          <button type="button" class="danger" disabled={busy} onClick={() => void run(() => api.del<Order>(path), 'is cancelled')}>
            Cancel order<span class="visually-hidden"> {id}</span>
          </button>
        )}
      </td>
    </tr>
  );
}

export function OrdersAdmin() {
  useTitle('Orders · Admin');
  const { query, route } = useLocation();
  const page = Math.max(1, Number(query.page ?? 1) || 1);
  const filter = (STATUSES as string[]).includes(query.status ?? '') ? (query.status as OrderStatus) : '';
  const [version, setVersion] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const list = useLoad(`${filter}:${page}:${version}`, () =>
    listOrders(new URLSearchParams(filter ? { status: filter } : {}), page, 20),
  );
  const shown = list.value?.orders ?? [];
  const qs = (p: number, s: string) => {
    const params = new URLSearchParams();
    if (s) {
      params.set('status', s);
    }
    if (p > 1) {
      params.set('page', String(p));
    }
    const text = params.toString();
    return text ? `/admin/orders?${text}` : '/admin/orders';
  };
  return (
    <>
      <h1>Orders</h1>
      {message && <Alert kind="info">{message}</Alert>}
      <div class="toolbar">
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={filter} onChange={(e) => route(qs(1, (e.target as HTMLSelectElement).value))}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      {list.error && <Alert>{list.error}</Alert>}
      {!list.value && !list.error && <Loading what="Loading orders" />}
      {list.value && shown.length === 0 && <p>No orders{filter ? ` with status ${filter}` : ''}.</p>}
      {shown.length > 0 && (
        <table>
          <caption class="visually-hidden">Orders</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Items</th>
              <th scope="col">Total</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((o) => (
              <OrderRow
                key={`${o.id}:${o.status}`}
                order={o}
                onChanged={(_, m) => {
                  setMessage(m);
                  setVersion((v) => v + 1);
                }}
              />
            ))}
          </tbody>
        </table>
      )}
      {list.value && <Pager page={page} pages={list.value.pages} href={(p) => qs(p, filter)} />}
    </>
  );
}
