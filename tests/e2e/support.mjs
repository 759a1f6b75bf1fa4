// Shared pieces of the browser tests: the emporium binary in either shape,
// Chromium through playwright-core, axe checks and screenshots.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const binary = process.env.EMPORIUM_BINARY ?? join(root, 'build/emporium');
export const artifacts = process.env.EMPORIUM_E2E_ARTIFACTS ?? join(root, 'build/e2e-artifacts');
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const ADMIN_EMAIL = 'admin@e2e.test';
export const ADMIN_PASSWORD = 'admin-e2e-password';
export const JWT_SECRET = 'e2e-secret-e2e-secret-e2e-secret-0123456789';

// Chromium offline and quiet: no network but loopback, no background traffic.
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

// One `emporium serve` process; resolves with its port once it listens.
function startProcess(args, dir, name) {
  return new Promise((resolvePort, reject) => {
    // The binary refuses unknown EMPORIUM_* variables (the test's own among them).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EMPORIUM_')));
    // Every page and journey comes from 127.0.0.1: the edge's per-client limits stay far above it.
    for (const cls of ['SIGN_IN', 'SIGNUP', 'REFRESH', 'PASSWORD', 'READ', 'WRITE']) env[`EMPORIUM_RATE_LIMIT_${cls}`] = '100000/1m';
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, env });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start listening in 20 s; output:\n${output}`));
    }, 20_000);
    const onData = (chunk) => {
      output += chunk;
      for (const line of output.split('\n')) {
        if (line.includes('"msg":"listening"')) {
          clearTimeout(timer);
          child.stdout.removeAllListeners('data');
          child.stderr.removeAllListeners('data');
          child.stdout.resume();
          child.stderr.resume();
          resolvePort({ child, port: JSON.parse(line).port, name });
          return;
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening; output:\n${output}`));
    });
  });
}

async function stopProcess(p) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) {
    return;
  }
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 8_000);
  await exited;
  clearTimeout(timer);
}

// Starts the shop in `shape` ('all': one process; 'split': one process per
// service plus the gateway, SQLite each). Answers { base, stop }.
export async function startShop(shape, extraArgs = [], { demo = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `emporium-e2e-${shape}-`));
  const common = (name) => [
    `--data-dir=${join(dir, name)}`,
    `--jwt-secret=${JWT_SECRET}`,
    `--admin-email=${ADMIN_EMAIL}`,
    `--admin-password=${ADMIN_PASSWORD}`,
    `--demo-catalog=${demo}`,
    '--io-threads=2',
    '--drain-timeout=2s',
    '--task-interval=200ms',
    ...extraArgs,
  ];
  const procs = [];
  const start = async (name, more = []) => {
    mkdirSync(join(dir, name), { recursive: true });
    const p = await startProcess(
      ['serve', `--services=${name}`, '--listen=127.0.0.1:0', '--admin-listen=127.0.0.1:0', ...common(name), ...more],
      dir,
      name,
    );
    procs.push(p);
    return `http://127.0.0.1:${p.port}`;
  };
  const stop = async () => {
    for (const p of procs.reverse()) {
      await stopProcess(p);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let base;
    if (shape === 'all') {
      base = await start('all');
    } else {
      const product = await start('product');
      const user = await start('user');
      const cart = await start('cart', [`--product-url=${product}`]);
      const order = await start('order', [`--product-url=${product}`, `--cart-url=${cart}`]);
      await start('notification', [`--user-url=${user}`]);
      base = await start('gateway', [
        `--product-url=${product}`,
        `--user-url=${user}`,
        `--cart-url=${cart}`,
        `--order-url=${order}`,
      ]);
    }
    await waitReady(base);
    return { base, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitReady(base) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) {
        return;
      }
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${base}/readyz never answered 200`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A JSON call to the API; answers { status, body, headers }.
export async function call(base, method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

export async function adminToken(base) {
  const r = await call(base, 'POST', '/api/users/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  if (r.status !== 200) {
    throw new Error(`admin login answered ${r.status}: ${JSON.stringify(r.body)}`);
  }
  return r.body.token;
}

export async function createProduct(base, token, product) {
  const r = await call(base, 'POST', '/api/products', product, token);
  if (r.status !== 201) {
    throw new Error(`creating ${product.name} answered ${r.status}: ${JSON.stringify(r.body)}`);
  }
  return r.body;
}

// A fresh Chromium with its own profile. Every console error, page error and
// failed request is recorded in `problems` (a CSP violation shows up there).
export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'emporium-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    // Chromium's own temporary files go under the profile, removed on close.
    env: { ...process.env, TMPDIR: profile },
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(20_000);
  const problems = [];
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') {
        problems.push(`console: ${m.text()}`);
      }
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    problems,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// No serious or critical axe violation on the page as it is now.
export async function checkAxe(page, what) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const lines = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    throw new Error(`axe on ${what}:\n${lines.join('\n')}`);
  }
}

// Screenshot kept under the build directory, then the axe check.
export async function snap(page, shape, name) {
  const h1s = await page.locator('h1').count();
  if (h1s !== 1) {
    throw new Error(`${shape}/${name} (${page.url()}) has ${h1s} h1 elements, not 1`);
  }
  const dir = join(artifacts, shape);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  await checkAxe(page, `${shape}/${name} (${page.url()})`);
}
