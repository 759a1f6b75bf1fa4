import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import type { Connect, Plugin } from 'vite';

// Two entries, so a shopper never downloads the admin console's code. The API
// under /api is proxied to a running `emporium serve` in development
// (EMPORIUM_API, default http://127.0.0.1:63080).
const api = process.env.EMPORIUM_API ?? 'http://127.0.0.1:63080';

// As the binary does: a non-file path under /admin gets admin/index.html.
const adminFallback: Connect.NextHandleFunction = (req, _res, next) => {
  const path = (req.url ?? '').split('?')[0];
  if (/^\/admin(\/|$)/.test(path) && !/\.[a-z0-9]+$/i.test(path)) {
    req.url = '/admin/index.html';
  }
  next();
};
const adminRoutes: Plugin = {
  name: 'emporium-admin-routes',
  configureServer: (server) => void server.middlewares.use(adminFallback),
  configurePreviewServer: (server) => void server.middlewares.use(adminFallback),
};

export default defineConfig({
  plugins: [adminRoutes],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        store: fileURLToPath(new URL('index.html', import.meta.url)),
        admin: fileURLToPath(new URL('admin/index.html', import.meta.url)),
      },
      output: {
        // What both entries use (Preact, the router, the API client) in one chunk.
        manualChunks: (id) => (id.includes('node_modules') || id.includes('/src/shared/') ? 'shared' : undefined),
      },
    },
  },
  server: { proxy: { '/api': api }, port: 63173, strictPort: true },
  preview: { proxy: { '/api': api }, port: 63174, strictPort: true },
});
