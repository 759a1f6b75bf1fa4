// Lighthouse (Debian's chromium, offline) on the storefront's home, product
// and cart pages, served by the binary (all-in-one, demo catalog):
// performance, accessibility, best practices and SEO each at least 0.95.
// Also prints the bytes of JS and CSS a first visit to the home page loads,
// as sent (brotli, gzip) and raw, and checks that no admin code is among them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startFront } from './front.mjs';
import { artifacts, call, chromiumArgs, chromiumPath, openBrowser, startShop } from './support.mjs';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const cli = join(require.resolve('lighthouse/package.json'), '../cli/index.js');
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
const MIN = Number(process.env.EMPORIUM_E2E_LIGHTHOUSE_MIN ?? 0.95);

let shop;
before(async () => {
  const s = await startShop('all', [], { demo: true });
  if (process.env.EMPORIUM_E2E_FRONT === 'node') {
    const front = await startFront(s.base);
    shop = { base: front.base, stop: async () => (await front.stop(), await s.stop()) };
  } else {
    shop = s;
  }
});
after(async () => shop && (await shop.stop()));

async function lighthouse(url, name) {
  const dir = join(artifacts, 'lighthouse');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${name}.json`);
  // Chromium's own temporary files go to a directory removed afterwards.
  const tmp = mkdtempSync(join(tmpdir(), 'emporium-lighthouse-'));
  try {
    await run(
      process.execPath,
      [
        cli,
        url,
        '--quiet',
        `--chrome-flags=${chromiumArgs.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')}`,
        `--only-categories=${CATEGORIES.join(',')}`,
        '--output=json',
        `--output-path=${out}`,
        '--max-wait-for-load=30000',
      ],
      { env: { ...process.env, CHROME_PATH: chromiumPath, TMPDIR: tmp }, timeout: 180_000, maxBuffer: 1 << 24 },
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const scores = Object.fromEntries(CATEGORIES.map((c) => [c, report.categories[c].score]));
  const failing = Object.values(report.audits)
    .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual')
    .map((a) => `${a.id} (${a.score})`);
  return { scores, failing };
}

// The raw bytes of one response as sent with `Accept-Encoding: encoding`.
function wireSize(url, encoding) {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'Accept-Encoding': encoding } }, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => resolve({ bytes: n, encoding: res.headers['content-encoding'] ?? 'identity' }));
    }).on('error', reject);
  });
}

test('Lighthouse scores home, product and cart at least 0.95 in every category', { timeout: 900_000 }, async () => {
  const list = await call(shop.base, 'GET', '/api/products?limit=1');
  const product = list.body.products[0];
  const pages = [
    ['home', `${shop.base}/`],
    ['product', `${shop.base}/products/${product.id}`],
    ['cart', `${shop.base}/cart`],
  ];
  const problems = [];
  for (const [name, url] of pages) {
    // Performance is timed on a shared machine: as Lighthouse advises for
    // variable runs, a page below the bar is measured twice more and judged
    // by the median of its three runs.
    const runs = [await lighthouse(url, name)];
    const below = (scores) => CATEGORIES.some((c) => scores[c] < MIN);
    if (below(runs[0].scores)) {
      runs.push(await lighthouse(url, `${name}-2`), await lighthouse(url, `${name}-3`));
    }
    const median = (c) => runs.map((r) => r.scores[c]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
    const scores = Object.fromEntries(CATEGORIES.map((c) => [c, median(c)]));
    console.log(
      `lighthouse ${name.padEnd(8)} ${CATEGORIES.map((c) => `${c} ${scores[c].toFixed(2)}`).join('  ')}` +
        (runs.length > 1 ? `  (median of ${runs.length} runs: performance ${runs.map((r) => r.scores.performance).join(', ')})` : ''),
    );
    const failing = runs.flatMap((r) => r.failing);
    if (failing.length) {
      console.log(`  audits below 1: ${[...new Set(failing)].join(', ')}`);
    }
    for (const c of CATEGORIES) {
      if (scores[c] < MIN) {
        problems.push(`${name}: ${c} ${scores[c]} < ${MIN} (${[...new Set(failing)].join(', ')})`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('a first visit loads a small JS and CSS payload, and no admin code', async () => {
  const html = await (await fetch(`${shop.base}/`)).text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), `assets: ${assets}`);
  assert.ok(!assets.some((a) => a.includes('admin')), `the storefront loads admin code: ${assets}`);
  const sizes = { br: 0, gzip: 0, identity: 0 };
  for (const a of assets) {
    for (const enc of ['br', 'gzip', 'identity']) {
      const s = await wireSize(`${shop.base}${a}`, enc);
      assert.equal(s.encoding, enc, `${a} with Accept-Encoding: ${enc} came as ${s.encoding}`);
      sizes[enc] += s.bytes;
    }
  }
  console.log(
    `first visit JS+CSS (${assets.length} files: ${assets.join(', ')}): ` +
      `${sizes.br} B brotli, ${sizes.gzip} B gzip, ${sizes.identity} B uncompressed`,
  );
  assert.ok(sizes.br < 40_000, `first-visit JS+CSS is ${sizes.br} B with brotli (budget 40 kB)`);
});

// The README's picture (docs/storefront.png is a copy of this one).
test('a screenshot of the storefront with the demo catalog', async () => {
  const b = await openBrowser();
  try {
    await b.page.goto(`${shop.base}/`);
    await b.page.getByRole('heading', { name: 'Featured products' }).waitFor();
    mkdirSync(artifacts, { recursive: true });
    await b.page.screenshot({ path: join(artifacts, 'storefront.png') });
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
  }
});
