// Live answers match docs/openapi.yaml: an all-in-one `emporium serve` in a
// scratch directory, driven through a customer's and an admin's calls; each
// answer's body is validated against the schema the document gives for its
// operation and status (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses).
//
//   EMPORIUM_BINARY=build/emporium node --test tests/api/contract.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import YAML from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = YAML.parse(readFileSync(path.join(repoRoot, 'docs', 'openapi.yaml'), 'utf8'));
const binary = process.env.EMPORIUM_BINARY
  ? path.resolve(process.cwd(), process.env.EMPORIUM_BINARY)
  : path.join(repoRoot, 'build', 'emporium');

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', true);
ajv.addFormat('email', true);
ajv.addFormat('uri', true);
ajv.addFormat('password', true);
ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');

let server;
let dir;
let base;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'emporium-contract-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('EMPORIUM_')),
  );
  server = spawn(binary, ['serve', '--listen=127.0.0.1:0', '--admin-listen=127.0.0.1:0', `--data-dir=${dir}`,
    '--admin-email=admin@contract.test', '--admin-password=admin-password-1'],
  { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 20_000);
    const onData = (chunk) => {
      out += chunk;
      const m = out.match(/"msg":"listening".*?"port":(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (code) => reject(new Error(`emporium exited ${code}:\n${out}`)));
  });
  base = `http://127.0.0.1:${port}`;
});

after(() => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
  }
  rmSync(dir, { recursive: true, force: true });
});

// The schema the document gives for `method path` answering `status`.
function documented(method, route, status) {
  let r = doc.paths[route]?.[method.toLowerCase()]?.responses?.[String(status)];
  assert.ok(r, `docs/openapi.yaml documents no ${status} for ${method} ${route}`);
  if (r.$ref) {
    r = doc.components.responses[r.$ref.split('/').pop()];
  }
  const [type, media] = Object.entries(r.content ?? {})[0] ?? [];
  assert.ok(media, `no content documented for ${status} of ${method} ${route}`);
  return { type, schema: media.schema, headers: r.headers ?? {} };
}

function schemaRef(schema) {
  // Component refs resolve inside the registered `openapi` document.
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
}

// Calls the shop and checks the answer against the document.
async function call(method, route, target, { body, token, cookie, status } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  if (cookie) headers.Cookie = cookie;
  const res = await fetch(base + target, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${target}: ${text}`);
  const want = documented(method, route, status);
  assert.equal(res.headers.get('content-type'), want.type, `${method} ${target} content type`);
  const json = JSON.parse(text);
  const validate = ajv.compile(schemaRef(want.schema));
  assert.ok(validate(json), `${method} ${target} does not match docs/openapi.yaml: ` +
    `${ajv.errorsText(validate.errors)}\n${text}`);
  for (const name of Object.keys(want.headers)) {
    if (name !== 'Set-Cookie') {
      assert.ok(res.headers.has(name), `${method} ${target} lacks the documented ${name} header`);
    }
  }
  return { json, res };
}

test('a customer\'s and an admin\'s answers match the documented schemas', async () => {
  const admin = await call('POST', '/api/users/login', '/api/users/login', {
    body: { email: 'admin@contract.test', password: 'admin-password-1' }, status: 200,
  });
  const product = await call('POST', '/api/products', '/api/products', {
    token: admin.json.token, status: 201,
    body: { name: 'Lamp', price: 12.5, category: 'Home', stock: 4, description: '', imageUrl: '' },
  });
  assert.equal(product.json._id, product.json.id);
  await call('GET', '/api/products/{id}', `/api/products/${product.json.id}`, { status: 200 });
  await call('GET', '/api/products', '/api/products?limit=5', { status: 200 });

  await call('POST', '/api/users/register', '/api/users/register', {
    body: { name: 'Cleo', email: 'cleo@contract.test', password: 'password-123' }, status: 201,
  });
  const login = await call('POST', '/api/users/login', '/api/users/login', {
    body: { email: 'cleo@contract.test', password: 'password-123' }, status: 200,
  });
  const cookies = login.res.headers.getSetCookie().map((c) => c.split(';')[0]);
  assert.deepEqual(cookies.map((c) => c.split('=')[0]), ['emporium_session', 'emporium_refresh']);
  const session = cookies[0];
  const me = login.json.user.id;
  await call('POST', '/api/cart/{userId}/items', `/api/cart/${me}/items`, {
    cookie: session, status: 201, body: { productId: product.json.id, quantity: 2 },
  });
  const address = { street: '1 Main St', city: 'Springfield', state: 'IL', zipCode: '62701',
    country: 'US' };
  const order = await call('POST', '/api/orders', '/api/orders', {
    cookie: session, status: 201, body: { userId: me, shippingAddress: address },
  });
  assert.equal(order.json._id, order.json.id);
  const list = await call('GET', '/api/orders', '/api/orders', { cookie: session, status: 200 });
  assert.equal(list.json.length, 1);
  assert.equal(list.res.headers.get('x-total-count'), '1');
  await call('GET', '/api/orders/{id}', `/api/orders/${order.json.id}`, {
    cookie: session, status: 200,
  });
  // A cookie-authenticated write sends JSON (else 415, documented too).
  await call('POST', '/api/users/refresh', '/api/users/refresh', {
    cookie: cookies[1], status: 415,
  });
  const refreshed = await call('POST', '/api/users/refresh', '/api/users/refresh', {
    cookie: cookies[1], status: 200, body: {},
  });
  assert.equal(refreshed.json.user.id, me);
  await call('GET', '/api/orders', '/api/orders?status=lost', { cookie: session, status: 400 });
});
