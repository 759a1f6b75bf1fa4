// A stand-in for the binary's asset serving, for working on web/ against a
// binary that does not serve it (EMPORIUM_E2E_FRONT=node): web/dist with the
// same headers (CSP, caching), index.html for other paths, /api proxied.
import { readFileSync, statSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { root } from './support.mjs';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

export function startFront(apiBase) {
  const dist = join(root, 'web/dist');
  const api = new URL(apiBase);
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/api/') || url.pathname === '/readyz') {
      const up = request(
        { host: api.hostname, port: api.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
      return;
    }
    let file = normalize(join(dist, url.pathname));
    let isFile = file.startsWith(dist) && statSync(file, { throwIfNoEntry: false })?.isFile();
    if (!isFile) {
      if (extname(url.pathname)) {
        res.writeHead(404).end();
        return;
      }
      file = join(dist, url.pathname.startsWith('/admin') ? 'admin/index.html' : 'index.html');
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CSP,
      'Cache-Control': file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ base: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => server.close(r)) });
    });
  });
}
