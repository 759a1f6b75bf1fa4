import { pagingOf, request } from './api';
import type { Order, Pagination } from './types';

const LIMIT = 10;

export interface OrderPage {
  orders: Order[];
  page: number;
  pages: number;
  total: number;
}

// GET /api/orders answers a JSON array (newest first) with `X-Total-Count`
// and `Link`; older servers answered `{orders, pagination}`: both are read.
export async function listOrders(params: URLSearchParams, page: number, limit = LIMIT): Promise<OrderPage> {
  params.set('page', String(page));
  params.set('limit', String(limit));
  const { body, headers } = await request<Order[] | { orders: Order[]; pagination: Pagination }>(
    'GET',
    `/api/orders?${params.toString()}`,
  );
  if (Array.isArray(body)) {
    const paging = pagingOf(headers, page, limit, body.length);
    return { orders: body, ...paging };
  }
  return { orders: body.orders, page, pages: body.pagination.pages, total: body.pagination.total };
}

