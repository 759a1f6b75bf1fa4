// The shopper's cart. Signed in, it is the server's cart (quantities checked
// against stock, subtotal and total computed by the server). A guest's cart is
// kept in this browser and moved into the server's cart on sign-in.
import { ApiError, api, messageOf } from '../shared/api';
import { currentUser } from '../shared/session';
import { Store } from '../shared/store';
import type { Cart, CartItem, Product } from '../shared/types';

const GUEST_KEY = 'emporium.guestCart';

export interface CartView {
  items: CartItem[];
  total: number;
  fromServer: boolean;
  loaded: boolean;
}

export const cart = new Store<CartView>({ items: [], total: 0, fromServer: false, loaded: false });

interface GuestItem extends CartItem {
  stock: number;
}

function cents(n: number): number {
  return Math.round(n * 100);
}

function readGuest(): GuestItem[] {
  try {
    return JSON.parse(localStorage.getItem(GUEST_KEY) ?? '[]') as GuestItem[];
  } catch {
    return [];
  }
}

function writeGuest(items: GuestItem[]): void {
  if (items.length === 0) {
    localStorage.removeItem(GUEST_KEY);
  } else {
    localStorage.setItem(GUEST_KEY, JSON.stringify(items));
  }
  const total = items.reduce((sum, i) => sum + cents(i.price) * i.quantity, 0) / 100;
  cart.set({ items, total, fromServer: false, loaded: true });
}

function show(c: Cart): void {
  cart.set({ items: c.items, total: c.total, fromServer: true, loaded: true });
}

function cartPath(userId: string): string {
  return `/api/cart/${encodeURIComponent(userId)}`;
}

export function itemCount(view: CartView): number {
  return view.items.reduce((n, i) => n + i.quantity, 0);
}

export async function loadCart(): Promise<void> {
  const user = currentUser.get();
  if (!user) {
    writeGuest(readGuest());
    return;
  }
  show(await api.get<Cart>(cartPath(user.id)));
}

function stockError(stock: number): ApiError {
  return new ApiError(409, stock === 0 ? 'This product is out of stock.' : `Only ${stock} in stock.`);
}

export async function addToCart(p: Product, quantity: number): Promise<void> {
  const user = currentUser.get();
  if (user) {
    show(await api.post<Cart>(`${cartPath(user.id)}/items`, { productId: p.id, quantity }));
    return;
  }
  const items = readGuest();
  const found = items.find((i) => i.productId === p.id);
  const next = (found?.quantity ?? 0) + quantity;
  if (next > p.stock) {
    throw stockError(p.stock);
  }
  const item: GuestItem = {
    productId: p.id,
    name: p.name,
    price: p.price,
    quantity: next,
    subtotal: (cents(p.price) * next) / 100,
    stock: p.stock,
  };
  writeGuest(found ? items.map((i) => (i.productId === p.id ? item : i)) : [...items, item]);
}

export async function setQuantity(productId: string, quantity: number): Promise<void> {
  const user = currentUser.get();
  if (user) {
    show(await api.put<Cart>(`${cartPath(user.id)}/items/${encodeURIComponent(productId)}`, { quantity }));
    return;
  }
  const items = readGuest();
  const found = items.find((i) => i.productId === productId);
  if (found && quantity > found.stock) {
    throw stockError(found.stock);
  }
  writeGuest(
    items
      .map((i) =>
        i.productId === productId ? { ...i, quantity, subtotal: (cents(i.price) * quantity) / 100 } : i,
      )
      .filter((i) => i.quantity > 0),
  );
}

export async function removeItem(productId: string): Promise<void> {
  const user = currentUser.get();
  if (user) {
    show(await api.del<Cart>(`${cartPath(user.id)}/items/${encodeURIComponent(productId)}`));
    return;
  }
  writeGuest(readGuest().filter((i) => i.productId !== productId));
}

// Moves a guest's items into the signed-in user's cart; answers the messages
// of items that could not move (e.g. no longer enough stock).
export async function mergeGuestCart(): Promise<string[]> {
  const user = currentUser.get();
  const problems: string[] = [];
  if (!user) {
    return problems;
  }
  for (const item of readGuest()) {
    try {
      await api.post<Cart>(`${cartPath(user.id)}/items`, { productId: item.productId, quantity: item.quantity });
    } catch (e) {
      problems.push(`${item.name}: ${messageOf(e)}`);
    }
  }
  localStorage.removeItem(GUEST_KEY);
  await loadCart();
  return problems;
}

export function forgetCart(): void {
  writeGuest(readGuest());
}
