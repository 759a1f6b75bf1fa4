// Client-side navigation from outside a component (preact-iso listens to
// popstate and re-reads location).
export function navigate(url: string, replace = false): void {
  if (replace) {
    history.replaceState(null, '', url);
  } else {
    history.pushState(null, '', url);
  }
  dispatchEvent(new PopStateEvent('popstate'));
}

export function here(): string {
  return location.pathname + location.search;
}
