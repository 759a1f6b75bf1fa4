import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export function formatMoney(amount: number, currency = 'USD'): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount);
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(-8).toUpperCase() : id.toUpperCase();
}

// Sets the document title; every page renders exactly one h1.
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Emporium` : 'Emporium';
  }, [title]);
}

interface FieldProps {
  label: string;
  type?: string;
  autoComplete?: string;
  inputMode?: JSX.HTMLAttributes<HTMLInputElement>['inputMode'];
  min?: string;
  step?: string;
  name: string;
  value: string;
  error?: string;
  hint?: string;
  onValue: (v: string) => void;
}

// A labelled input with its error beside it (aria-invalid, aria-describedby).
export function Field({ label, name, value, error, hint, onValue, ...rest }: FieldProps) {
  const id = `f-${name}`;
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      <input
        {...rest}
        id={id}
        name={name}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy || undefined}
        onInput={(e) => onValue((e.target as HTMLInputElement).value)}
      />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function Alert({ children, kind = 'error' }: { children: ComponentChildren; kind?: 'error' | 'info' }) {
  return (
    <div class={`alert ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="loading" role="status">
      {what}…
    </p>
  );
}

// A product image when it is served from this origin (the CSP allows no
// other); a placeholder otherwise.
export function ProductImage({ url, size }: { url?: string; size: 'card' | 'large' }) {
  const [failed, setFailed] = useState(false);
  let sameOrigin = false;
  if (url) {
    try {
      sameOrigin = new URL(url, location.href).origin === location.origin;
    } catch {
      sameOrigin = false;
    }
  }
  const dims = size === 'large' ? 480 : 240;
  if (!url || !sameOrigin || failed) {
    return <div class={`img placeholder ${size}`} aria-hidden="true" />;
  }
  return (
    <img
      class={`img ${size}`}
      src={url}
      alt=""
      width={dims}
      height={dims}
      loading="lazy"
      decoding="async"
      onError={() => setFailed(true)}
    />
  );
}

export function Pager({ page, pages, href }: { page: number; pages: number; href: (p: number) => string }) {
  if (pages <= 1) {
    return null;
  }
  return (
    <nav class="pager" aria-label="Pages">
      {page > 1 ? <a href={href(page - 1)}>Previous page</a> : <span />}
      <span>
        Page {page} of {pages}
      </span>
      {page < pages ? <a href={href(page + 1)}>Next page</a> : <span />}
    </nav>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge ${status}`}>{status}</span>;
}
