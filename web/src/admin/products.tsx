import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, fieldsOf, messageOf } from '../shared/api';
import type { FieldErrors } from '../shared/api';
import { useLoad } from '../shared/hooks';
import type { Product, ProductList } from '../shared/types';
import { Alert, Field, Loading, Pager, formatMoney, useTitle } from '../shared/ui';

interface Draft {
  name: string;
  description: string;
  price: string;
  category: string;
  stock: string;
  imageUrl: string;
}

const BLANK: Draft = { name: '', description: '', price: '', category: '', stock: '0', imageUrl: '' };

function draftOf(p: Product): Draft {
  return {
    name: p.name,
    description: p.description,
    price: String(p.price),
    category: p.category,
    stock: String(p.stock),
    imageUrl: p.imageUrl ?? '',
  };
}

// The body the API takes: numbers as numbers, blank optional fields left out
// (on a replace, a blank image URL clears the image).
function bodyOf(d: Draft, replacing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: d.name.trim(),
    price: d.price.trim() === '' ? '' : Number(d.price),
    category: d.category.trim(),
    stock: d.stock.trim() === '' ? 0 : Number(d.stock),
  };
  if (d.description.trim()) {
    body.description = d.description.trim();
  }
  if (d.imageUrl.trim()) {
    body.imageUrl = d.imageUrl.trim();
  } else if (replacing) {
    body.imageUrl = null;
  }
  return body;
}

const FIELDS: [keyof Draft, string, string?][] = [
  ['name', 'Name'],
  ['description', 'Description'],
  ['price', 'Price', 'number'],
  ['category', 'Category'],
  ['stock', 'Stock', 'number'],
  ['imageUrl', 'Image URL', 'url'],
];

function ProductForm({ editing, onDone }: { editing: Product | null; onDone: (message: string) => void }) {
  const [draft, setDraft] = useState<Draft>(editing ? draftOf(editing) : BLANK);
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      if (editing) {
        const p = await api.patch<Product>(`/api/products/${encodeURIComponent(editing.id)}`, bodyOf(draft, true));
        onDone(`Saved “${p.name}”.`);
      } else {
        const p = await api.post<Product>('/api/products', bodyOf(draft, false));
        setDraft(BLANK);
        onDone(`Created “${p.name}”.`);
      }
    } catch (err) {
      const f = fieldsOf(err);
      setFields(f);
      setError(Object.keys(f).length ? 'Please correct the highlighted fields.' : messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel" onSubmit={onSubmit} noValidate aria-labelledby="form-heading">
      <h2 id="form-heading">{editing ? `Edit “${editing.name}”` : 'New product'}</h2>
      {error && <Alert>{error}</Alert>}
      <div class="form-grid">
        {FIELDS.map(([key, label, type]) => (
          <Field
            key={key}
            label={label}
            name={key}
            type={type ?? 'text'}
            step={key === 'price' ? '0.01' : undefined}
            min={type === 'number' ? '0' : undefined}
            value={draft[key]}
            error={fields[key]}
            onValue={(v) => setDraft({ ...draft, [key]: v })}
          />
        ))}
      </div>
      <button type="submit" class="primary" disabled={busy}>
        {editing ? 'Save changes' : 'Create product'}
      </button>{' '}
      {editing && (
        <button type="button" onClick={() => onDone('')}>
          Cancel edit
        </button>
      )}
    </form>
  );
}

function ProductRow({ p, onEdit, onChanged }: { p: Product; onEdit: () => void; onChanged: (m: string) => void }) {
  const [stock, setStock] = useState(String(p.stock));
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<string>) => {
    setError(null);
    try {
      onChanged(await action());
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const saveStock = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api.patch(`/api/products/${encodeURIComponent(p.id)}`, { stock: Number(stock) });
      return `Stock of “${p.name}” is now ${stock}.`;
    });
  };
  const remove = () =>
    void run(async () => {
      await api.del(`/api/products/${encodeURIComponent(p.id)}`);
      return `Deleted “${p.name}”.`;
    });
  return (
    <tr>
      <td>
        <a href={`/products/${encodeURIComponent(p.id)}`}>{p.name}</a>
        {error && <p class="error">{error}</p>}
      </td>
      <td>{p.category}</td>
      <td>{formatMoney(p.price, p.currency)}</td>
      <td>
        <form class="inline" onSubmit={saveStock}>
          <label class="visually-hidden" for={`stock-${p.id}`}>
            Stock of {p.name}
          </label>
          <input id={`stock-${p.id}`} type="number" min="0" step="1" value={stock} onInput={(e) => setStock((e.target as HTMLInputElement).value)} />
          <button type="submit">
            Save<span class="visually-hidden"> stock of {p.name}</span>
          </button>
        </form>
      </td>
      <td>
        <button type="button" onClick={onEdit}>
          Edit<span class="visually-hidden"> {p.name}</span>
        </button>{' '}
        {confirming ? (
          <button type="button" class="danger" onClick={remove}>
            Confirm delete<span class="visually-hidden"> of {p.name}</span>
          </button>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Delete<span class="visually-hidden"> {p.name}</span>
          </button>
        )}
      </td>
    </tr>
  );
}

export function ProductsAdmin() {
  useTitle('Products · Admin');
  const { query } = useLocation();
  const page = Math.max(1, Number(query.page ?? 1) || 1);
  const [version, setVersion] = useState(0);
  const [editing, setEditing] = useState<Product | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const list = useLoad(`${page}:${version}`, () => api.get<ProductList>(`/api/products?limit=20&page=${page}`));
  const changed = (m: string) => {
    setEditing(null);
    setMessage(m || null);
    setVersion((v) => v + 1);
  };
  return (
    <>
      <h1>Products</h1>
      {message && <Alert kind="info">{message}</Alert>}
      <ProductForm key={editing?.id ?? 'new'} editing={editing} onDone={changed} />
      {list.error && <Alert>{list.error}</Alert>}
      {!list.value && !list.error && <Loading what="Loading products" />}
      {list.value && (
        <>
          <table>
            <caption class="visually-hidden">Products</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Category</th>
                <th scope="col">Price</th>
                <th scope="col">Stock</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.value.products.map((p) => (
                <ProductRow key={`${p.id}:${p.updatedAt}`} p={p} onEdit={() => setEditing(p)} onChanged={changed} />
              ))}
            </tbody>
          </table>
          <Pager page={page} pages={list.value.pagination.pages} href={(p) => `/admin/products?page=${p}`} />
        </>
      )}
    </>
  );
}
