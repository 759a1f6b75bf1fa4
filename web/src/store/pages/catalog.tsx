import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, messageOf } from '../../shared/api';
import type { Product, ProductList } from '../../shared/types';
import { useLoad } from '../../shared/hooks';
import { Alert, Loading, Pager, ProductImage, formatMoney, useTitle } from '../../shared/ui';
import { addToCart } from '../cart';

interface Category {
  name: string;
  count: number;
}

export function stockText(stock: number): string {
  if (stock <= 0) {
    return 'Out of stock';
  }
  return stock <= 5 ? `Only ${stock} left` : 'In stock';
}

function ProductCard({ p }: { p: Product }) {
  return (
    <li class="card">
      <ProductImage url={p.imageUrl} size="card" />
      <h3>
        <a href={`/products/${encodeURIComponent(p.id)}`}>{p.name}</a>
      </h3>
      <p class="price">{formatMoney(p.price, p.currency)}</p>
      <p class={p.stock > 0 ? 'stock' : 'stock out'}>{stockText(p.stock)}</p>
    </li>
  );
}

function Grid({ products }: { products: Product[] }) {
  return (
    <ul class="grid" role="list">
      {products.map((p) => (
        <ProductCard key={p.id} p={p} />
      ))}
    </ul>
  );
}

export function Home() {
  useTitle('');
  // Both lists at once, so the page lays out once (no layout shift).
  const home = useLoad('home', () =>
    Promise.all([
      api.get<{ categories: Category[] }>('/api/products/categories', false),
      api.get<ProductList>('/api/products?limit=10&sort=-createdAt', false),
    ]),
  );
  const [cats, featured] = home.value ?? [null, null];
  return (
    <>
      <h1>Welcome to Emporium</h1>
      <p class="lead">Everyday goods, good prices, delivered to your door.</p>
      {home.error && <Alert>{home.error}</Alert>}
      {!home.value && !home.error && <Loading />}
      {cats && featured && (
        <>
          <section aria-labelledby="cat-heading">
            <h2 id="cat-heading">Shop by category</h2>
            <ul class="categories" role="list">
              {cats.categories.map((c) => (
                <li key={c.name}>
                  <a href={`/products?category=${encodeURIComponent(c.name)}`}>
                    {c.name} <span class="muted">({c.count})</span>
                  </a>
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="featured-heading">
            <h2 id="featured-heading">Featured products</h2>
            <Grid products={featured.products} />
          </section>
        </>
      )}
    </>
  );
}

const SORTS: [string, string][] = [
  ['', 'Newest'],
  ['price', 'Price: low to high'],
  ['-price', 'Price: high to low'],
  ['name', 'Name: A to Z'],
];

function catalogQuery(query: Record<string, string>, page: number): string {
  const params = new URLSearchParams();
  for (const key of ['q', 'category', 'minPrice', 'maxPrice', 'sort']) {
    if (query[key]) {
      params.set(key, query[key]);
    }
  }
  if (page > 1) {
    params.set('page', String(page));
  }
  return params.toString();
}

function Filters({ query, categories }: { query: Record<string, string>; categories: Category[] }) {
  const { route } = useLocation();
  const onSubmit = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const next: Record<string, string> = { q: query.q ?? '' };
    for (const [k, v] of data.entries()) {
      next[k] = String(v).trim();
    }
    const qs = catalogQuery(next, 1);
    route(qs ? `/products?${qs}` : '/products');
  };
  return (
    <form class="filters" onSubmit={onSubmit} key={catalogQuery(query, 1)}>
      <div class="field">
        <label for="f-category">Category</label>
        <select id="f-category" name="category" defaultValue={query.category ?? ''}>
          <option value="">All categories</option>
          {categories.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="f-min">Min price</label>
        <input id="f-min" name="minPrice" type="number" min="0" step="0.01" defaultValue={query.minPrice ?? ''} />
      </div>
      <div class="field">
        <label for="f-max">Max price</label>
        <input id="f-max" name="maxPrice" type="number" min="0" step="0.01" defaultValue={query.maxPrice ?? ''} />
      </div>
      <div class="field">
        <label for="f-sort">Sort by</label>
        <select id="f-sort" name="sort" defaultValue={query.sort ?? ''}>
          {SORTS.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <button type="submit">Apply filters</button>
    </form>
  );
}

export function Catalog() {
  const { query } = useLocation();
  const page = Math.max(1, Number(query.page ?? 1) || 1);
  const qs = catalogQuery(query, page);
  const title = query.q ? `Results for “${query.q}”` : query.category ? query.category : 'All products';
  useTitle(title);
  const cats = useLoad('cats', () => api.get<{ categories: Category[] }>('/api/products/categories', false));
  const list = useLoad(qs, () => api.get<ProductList>(`/api/products?limit=12&${qs}`, false));
  const href = (p: number) => `/products?${catalogQuery(query, p)}`;
  return (
    <>
      <h1>{title}</h1>
      <Filters query={query} categories={cats.value?.categories ?? []} />
      {list.error && <Alert>{list.error}</Alert>}
      {!list.value && !list.error && <Loading what="Loading products" />}
      {list.value && (
        <>
          <p class="muted" role="status">
            {list.value.pagination.total === 1 ? '1 product' : `${list.value.pagination.total} products`}
          </p>
          {list.value.products.length === 0 ? (
            <p>No product matches. Try other words or fewer filters.</p>
          ) : (
            <Grid products={list.value.products} />
          )}
          <Pager page={page} pages={list.value.pagination.pages} href={href} />
        </>
      )}
    </>
  );
}

function AddToCart({ p }: { p: Product }) {
  const [qty, setQty] = useState('1');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const n = Number(qty);
    if (!Number.isInteger(n) || n < 1) {
      setMessage({ ok: false, text: 'Enter a quantity of 1 or more.' });
      return;
    }
    setBusy(true);
    try {
      await addToCart(p, n);
      setMessage({ ok: true, text: `Added ${n} to your cart.` });
    } catch (err) {
      setMessage({ ok: false, text: messageOf(err) });
    } finally {
      setBusy(false);
    }
  };
  if (p.stock <= 0) {
    return <p class="stock out">This product is out of stock.</p>;
  }
  return (
    <form class="add" onSubmit={onSubmit} noValidate>
      <div class={message && !message.ok ? 'field invalid' : 'field'}>
        <label for="f-quantity">Quantity</label>
        <input
          id="f-quantity"
          type="number"
          min="1"
          max={p.stock}
          step="1"
          inputMode="numeric"
          value={qty}
          onInput={(e) => setQty((e.target as HTMLInputElement).value)}
        />
      </div>
      <button type="submit" class="primary" disabled={busy}>
        Add to cart
      </button>
      <div aria-live="polite">
        {message && (
          <p class={message.ok ? 'ok' : 'error'}>
            {message.text} {message.ok && <a href="/cart">View cart</a>}
          </p>
        )}
      </div>
    </form>
  );
}

export function ProductPage({ id }: { id: string }) {
  const product = useLoad(id, () => api.get<Product>(`/api/products/${encodeURIComponent(id)}`, false));
  const p = product.value;
  useTitle(p ? p.name : product.error ? 'Product not found' : 'Product');
  if (product.error) {
    return (
      <>
        <h1>Product not found</h1>
        <Alert>{product.error}</Alert>
        <p>
          <a href="/products">Browse all products</a>
        </p>
      </>
    );
  }
  if (!p) {
    return (
      <>
        <h1>Product</h1>
        <Loading />
      </>
    );
  }
  return (
    <article class="product">
      <ProductImage url={p.imageUrl} size="large" />
      <div class="details">
        <p class="muted">
          <a href={`/products?category=${encodeURIComponent(p.category)}`}>{p.category}</a>
        </p>
        <h1>{p.name}</h1>
        <p class="price big">{formatMoney(p.price, p.currency)}</p>
        <p class={p.stock > 0 ? 'stock' : 'stock out'}>
          {stockText(p.stock)}
          {p.stock > 5 && <span class="muted"> ({p.stock} available)</span>}
        </p>
        <p>{p.description}</p>
        <AddToCart p={p} />
      </div>
    </article>
  );
}
