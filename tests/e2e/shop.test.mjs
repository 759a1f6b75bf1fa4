// The storefront and admin console in Chromium, through the gateway, in both
// shapes (EMPORIUM_E2E_SHAPES, default "all split"): a shopper's whole
// journey, an admin's, a customer opening /admin, and an expired session.
// Every page is checked with axe (no serious or critical violation) and kept
// as a screenshot under the build directory (EMPORIUM_E2E_ARTIFACTS).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFront } from './front.mjs';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  adminToken,
  call,
  createProduct,
  openBrowser,
  snap,
  startShop,
} from './support.mjs';

const shapes = (process.env.EMPORIUM_E2E_SHAPES ?? 'all split').split(/\s+/).filter(Boolean);
const T = { timeout: 180_000 };

// The shop in `shape`; with EMPORIUM_E2E_FRONT=node, web/dist is served by a
// stand-in (for a binary that does not serve it yet).
async function start(shape, extraArgs = []) {
  const shop = await startShop(shape, extraArgs);
  if (process.env.EMPORIUM_E2E_FRONT === 'node') {
    const front = await startFront(shop.base);
    return { base: front.base, stop: async () => (await front.stop(), await shop.stop()) };
  }
  const res = await fetch(`${shop.base}/`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/html')) {
    await shop.stop();
    throw new Error(`GET / answered ${res.status} ${type}: the binary does not serve the storefront`);
  }
  return shop;
}

const h1 = (page, name) => page.getByRole('heading', { level: 1, name }).waitFor();
const cartLink = (page) => page.getByRole('link', { name: /^Cart/ });
const cartText = async (page) => (await cartLink(page).textContent()).replace(/\s+/g, ' ').trim();

async function signIn(page, email, password) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

for (const shape of shapes) {
  describe(`storefront (${shape})`, () => {
    let shop;
    let token;
    let shoes;
    let beanie;
    const shopper = { name: 'Grace Hopper', email: `grace.${shape}@e2e.test`, password: 'cobol-1959-rules' };
    let orderId;

    before(async () => {
      shop = await start(shape);
      token = await adminToken(shop.base);
      shoes = await createProduct(shop.base, token, {
        name: 'Trail Running Shoes',
        description: 'Light shoes with a grippy sole for muddy trails.',
        price: 79.99,
        category: 'Sports',
        stock: 10,
      });
      await createProduct(shop.base, token, {
        name: 'Ceramic Pour-Over Set',
        description: 'A dripper, a carafe and two cups.',
        price: 34.5,
        category: 'Home & Kitchen',
        stock: 5,
        imageUrl: 'https://images.example.com/pour-over.jpg',
      });
      beanie = await createProduct(shop.base, token, {
        name: 'Wool Beanie',
        description: 'Warm merino wool.',
        price: 18,
        category: 'Clothing',
        stock: 0,
      });
    });
    after(async () => shop && (await shop.stop()));

    test('a shopper browses, searches, buys 3 and sees the order', T, async () => {
      const b = await openBrowser();
      const { page } = b;
      try {
        await page.goto(`${shop.base}/`);
        await h1(page, 'Welcome to Emporium');
        await page.getByRole('link', { name: /^Sports/ }).waitFor();
        await page.getByRole('link', { name: 'Trail Running Shoes' }).waitFor();
        await snap(page, shape, '01-home');

        await page.getByLabel('Search').fill('running');
        await page.getByLabel('Search').press('Enter');
        await h1(page, 'Results for “running”');
        await page.getByRole('link', { name: 'Trail Running Shoes' }).waitFor();
        assert.equal(await page.getByRole('link', { name: 'Ceramic Pour-Over Set' }).count(), 0);
        await snap(page, shape, '02-search');

        await page.getByRole('link', { name: 'Wool Beanie' }).count();
        await page.goto(`${shop.base}/products/${beanie.id}`);
        await h1(page, 'Wool Beanie');
        await page.getByText('This product is out of stock.').waitFor();
        assert.equal(await page.getByRole('button', { name: 'Add to cart' }).count(), 0);
        await snap(page, shape, '03-out-of-stock');

        await page.goBack();
        await page.getByRole('link', { name: 'Trail Running Shoes' }).click();
        await h1(page, 'Trail Running Shoes');
        await page.getByText('In stock').first().waitFor();
        await page.getByLabel('Quantity').fill('11');
        await page.getByRole('button', { name: 'Add to cart' }).click();
        await page.getByText('Only 10 in stock.').waitFor();
        await page.getByLabel('Quantity').fill('2');
        await page.getByRole('button', { name: 'Add to cart' }).click();
        await page.getByText('Added 2 to your cart.').waitFor();
        assert.equal(await cartText(page), 'Cart (2)');
        await snap(page, shape, '04-product');

        await cartLink(page).click();
        await h1(page, 'Your cart');
        await page.getByLabel('Quantity').fill('3');
        await page.getByRole('button', { name: /^Update/ }).click();
        await page.getByText('$239.97').first().waitFor();
        assert.equal(await cartText(page), 'Cart (3)');
        await snap(page, shape, '05-cart');

        // Checkout needs an account: register (which signs in), sign out, sign in.
        await page.getByRole('button', { name: 'Checkout' }).click();
        await h1(page, 'Sign in');
        await page.getByRole('link', { name: 'Create an account' }).click();
        await h1(page, 'Create an account');
        await page.getByLabel('Name').fill(shopper.name);
        await page.getByLabel('Email').fill(shopper.email);
        await page.getByLabel('Password').fill('short');
        await page.getByRole('button', { name: 'Register' }).click();
        await page.locator('#f-password-error').waitFor();
        await snap(page, shape, '06-register-error');
        await page.getByLabel('Password').fill(shopper.password);
        await page.getByRole('button', { name: 'Register' }).click();
        await h1(page, 'Checkout');
        await page.getByText('3 × Trail Running Shoes').waitFor();
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByText('You are signed out.').waitFor();
        assert.equal(await cartText(page), 'Cart (0)');
        await page.getByRole('link', { name: 'Sign in' }).click();
        await h1(page, 'Sign in');
        await snap(page, shape, '07-signin');
        await signIn(page, shopper.email, shopper.password);
        await h1(page, 'Welcome to Emporium');
        await page.getByRole('button', { name: 'Sign out' }).waitFor();
        assert.equal(await cartText(page), 'Cart (3)', 'the cart is kept on the server');

        await cartLink(page).click();
        await h1(page, 'Your cart');
        await page.getByText('Total: $239.97', { exact: true }).waitFor();
        await page.getByRole('button', { name: 'Checkout' }).click();
        await h1(page, 'Checkout');
        await page.getByLabel('Street').fill('1 Main St');
        await page.getByLabel('City').fill('Springfield');
        await page.getByLabel('State').fill('IL');
        await page.getByLabel('ZIP code').fill('');
        await page.getByLabel('Country').fill('US');
        await page.getByRole('button', { name: 'Place order' }).click();
        await page.getByText('Please correct the highlighted fields.').waitFor();
        const zip = page.getByLabel('ZIP code');
        assert.equal(await zip.getAttribute('aria-invalid'), 'true');
        const describedBy = await zip.getAttribute('aria-describedby');
        assert.ok(describedBy?.includes('f-zipCode-error'), 'the ZIP code error is tied to its field');
        assert.match(await page.locator('#f-zipCode-error').innerText(), /\S/);
        assert.equal(await page.locator('.field.invalid').count(), 1, 'only the ZIP code is marked');
        await snap(page, shape, '08-checkout-bad-zip');

        await zip.fill('62701');
        await page.getByRole('button', { name: 'Place order' }).click();
        await h1(page, 'Thank you for your order');
        orderId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
        await page.getByText('is confirmed').waitFor();
        await page.getByRole('cell', { name: 'Trail Running Shoes' }).waitFor();
        await snap(page, shape, '09-confirmation');
        assert.equal(await cartText(page), 'Cart (0)');

        await page.getByRole('link', { name: 'Orders', exact: true }).click();
        await h1(page, 'Your orders');
        await page.getByRole('link', { name: /^Order / }).first().waitFor();
        assert.equal(await page.getByRole('link', { name: /^Order / }).count(), 1);
        await page.getByText('pending').waitFor();
        await snap(page, shape, '10-orders');

        await cartLink(page).click();
        await page.getByText('Your cart is empty.').waitFor();
        const after3 = await call(shop.base, 'GET', `/api/products/${shoes.id}`);
        assert.equal(after3.body.stock, 7, 'the stock went down by 3');
        assert.deepEqual(
          b.problems.filter((p) => !/status of (400|422) /.test(p)),
          [],
          'no console error, page error or CSP violation besides the refused register and order',
        );
      } finally {
        await b.close();
      }
    });

    test('an admin adds a product and ships the order; the shopper sees it', T, async () => {
      assert.ok(orderId, 'the shopper journey placed an order');
      const b = await openBrowser();
      const { page } = b;
      try {
        await page.goto(`${shop.base}/admin`);
        await h1(page, 'Sign in');
        assert.equal(new URL(page.url()).searchParams.get('next'), '/admin');
        await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
        await h1(page, 'Products');
        await page.getByRole('heading', { name: 'New product' }).waitFor();
        await page.getByLabel('Name').fill('Solar Lantern');
        await page.getByLabel('Description').fill('Charges by day, glows all night.');
        await page.getByLabel('Price').fill('24.50');
        await page.getByLabel('Category').fill('Outdoor');
        await page.getByLabel('Stock', { exact: true }).fill('12');
        await page.getByRole('button', { name: 'Create product' }).click();
        await page.getByText('Created “Solar Lantern”.').waitFor();
        await page.getByRole('link', { name: 'Solar Lantern' }).waitFor();
        await snap(page, shape, '20-admin-products');

        await page.getByLabel('Stock of Solar Lantern').fill('20');
        await page.getByRole('button', { name: 'Save stock of Solar Lantern' }).click();
        await page.getByText('Stock of “Solar Lantern” is now 20.').waitFor();
        await page.getByRole('button', { name: 'Edit Solar Lantern' }).click();
        await page.getByRole('heading', { name: 'Edit “Solar Lantern”' }).waitFor();
        await page.getByLabel('Price').fill('');
        await page.getByRole('button', { name: 'Save changes' }).click();
        await page.locator('#f-price-error').waitFor();
        await page.getByLabel('Price').fill('24.50');
        await page.getByRole('button', { name: 'Save changes' }).click();
        await page.getByText('Saved “Solar Lantern”.').waitFor();
        await page.getByRole('button', { name: 'Delete Wool Beanie' }).click();
        await page.getByRole('button', { name: 'Confirm delete of Wool Beanie' }).click();
        await page.getByText('Deleted “Wool Beanie”.').waitFor();
        assert.equal(await page.getByRole('link', { name: 'Wool Beanie' }).count(), 0);
        assert.equal((await call(shop.base, 'GET', `/api/products/${beanie.id}`)).status, 404);

        await page.getByRole('link', { name: 'Orders', exact: true }).click();
        await h1(page, 'Orders');
        const id = orderId.slice(-8).toUpperCase();
        for (const next of ['processing', 'shipped']) {
          await page.getByLabel(`New status for order ${id}`).selectOption(next);
          await page.getByRole('button', { name: `Change status of order ${id}` }).click();
          await page.getByText(`Order ${id} is now ${next}.`).waitFor();
        }
        await page.getByLabel('Status', { exact: true }).selectOption('shipped');
        await page.getByRole('cell', { name: id, exact: true }).waitFor();
        await page.getByLabel('Status', { exact: true }).selectOption('pending');
        await page.getByText('No orders with status pending.').waitFor();
        await page.getByLabel('Status', { exact: true }).selectOption('');
        await snap(page, shape, '21-admin-orders');

        await page.getByRole('link', { name: 'Users' }).click();
        await h1(page, 'Users');
        await page.getByRole('cell', { name: shopper.email, exact: true }).waitFor();
        await snap(page, shape, '22-admin-users');
        for (const role of ['admin', 'customer']) {
          await page.getByLabel(`Role of ${shopper.email}`).selectOption(role);
          await page.getByRole('button', { name: `Save role of ${shopper.email}` }).click();
          await page.getByText(`${shopper.email} is now ${role}.`).waitFor();
        }

        await page.goto(`${shop.base}/products?q=solar`);
        await page.getByRole('link', { name: 'Solar Lantern' }).click();
        await h1(page, 'Solar Lantern');
        await page.getByText('$24.50').waitFor();
        await page.getByText('(20 available)').waitFor();
        assert.deepEqual(b.problems.filter((p) => !/status of 400 /.test(p)), [], 'only the refused edit failed');
      } finally {
        await b.close();
      }

      const s = await openBrowser();
      try {
        await s.page.goto(`${shop.base}/signin?next=${encodeURIComponent(`/orders/${orderId}`)}`);
        await signIn(s.page, shopper.email, shopper.password);
        await h1(s.page, /^Order /);
        await s.page.getByText('shipped').waitFor();
        assert.equal(await s.page.getByRole('button', { name: 'Cancel order' }).count(), 0);
        await snap(s.page, shape, '11-order-shipped');
      } finally {
        await s.close();
      }
    });

    test('a customer opening /admin gets the 403 page', T, async () => {
      const b = await openBrowser();
      try {
        await b.page.goto(`${shop.base}/signin`);
        await signIn(b.page, shopper.email, shopper.password);
        await h1(b.page, 'Welcome to Emporium');
        await b.page.goto(`${shop.base}/admin/products`);
        await h1(b.page, 'Access denied');
        assert.equal(await b.page.getByRole('button', { name: 'Create product' }).count(), 0);
        await snap(b.page, shape, '23-admin-forbidden');
      } finally {
        await b.close();
      }
    });

    test('a shopper cancels a pending order', T, async () => {
      const login = await call(shop.base, 'POST', '/api/users/login', { email: shopper.email, password: shopper.password });
      await call(shop.base, 'DELETE', `/api/cart/${login.body.user.id}`, {}, login.body.token);
      const b = await openBrowser();
      const { page } = b;
      try {
        await page.goto(`${shop.base}/signin?next=${encodeURIComponent(`/products/${shoes.id}`)}`);
        await signIn(page, shopper.email, shopper.password);
        await h1(page, 'Trail Running Shoes');
        const stock = (await call(shop.base, 'GET', `/api/products/${shoes.id}`)).body.stock;
        await page.getByRole('button', { name: 'Add to cart' }).click();
        await page.getByText('Added 1 to your cart.').waitFor();
        await page.goto(`${shop.base}/checkout`);
        for (const [label, value] of [
          ['Street', '2 Elm St'],
          ['City', 'Shelbyville'],
          ['State', 'IL'],
          ['ZIP code', '62565'],
          ['Country', 'US'],
        ]) {
          await page.getByLabel(label).fill(value);
        }
        await page.getByRole('button', { name: 'Place order' }).click();
        await h1(page, 'Thank you for your order');
        assert.equal((await call(shop.base, 'GET', `/api/products/${shoes.id}`)).body.stock, stock - 1);
        await page.getByRole('button', { name: 'Cancel order' }).click();
        await page.getByText('cancelled').waitFor();
        assert.equal(await page.getByRole('button', { name: 'Cancel order' }).count(), 0);
        await snap(page, shape, '12-order-cancelled');
        assert.equal((await call(shop.base, 'GET', `/api/products/${shoes.id}`)).body.stock, stock, 'the stock came back');
      } finally {
        await b.close();
      }
    });

    test('an order for more than the stock left is refused with the reason, the cart kept', T, async () => {
      const lamp = await createProduct(shop.base, token, { name: 'Desk Lamp', price: 30, category: 'Home & Kitchen', stock: 4 });
      const b = await openBrowser();
      const { page } = b;
      try {
        await page.goto(`${shop.base}/signin?next=${encodeURIComponent(`/products/${lamp.id}`)}`);
        await signIn(page, shopper.email, shopper.password);
        await h1(page, 'Desk Lamp');
        await page.getByLabel('Quantity').fill('3');
        await page.getByRole('button', { name: 'Add to cart' }).click();
        await page.getByText('Added 3 to your cart.').waitFor();
        assert.equal((await call(shop.base, 'PATCH', `/api/products/${lamp.id}`, { stock: 2 }, token)).status, 200);
        await page.goto(`${shop.base}/checkout`);
        for (const [label, value] of [
          ['Street', '3 Oak St'],
          ['City', 'Capital City'],
          ['State', 'IL'],
          ['ZIP code', '62701'],
          ['Country', 'US'],
        ]) {
          await page.getByLabel(label).fill(value);
        }
        await page.getByRole('button', { name: 'Place order' }).click();
        await page.getByRole('alert').filter({ hasText: /Insufficient stock for "?Desk Lamp"?: 2 available, 3 requested/ }).waitFor();
        await h1(page, 'Checkout');
        await snap(page, shape, '13-checkout-out-of-stock');
        await cartLink(page).click();
        await page.getByRole('link', { name: 'Desk Lamp' }).waitFor();
        assert.equal(await cartText(page), 'Cart (3)', 'the cart is kept');
        await page.getByRole('button', { name: 'Remove Desk Lamp' }).click();
        await page.getByText('Your cart is empty.').waitFor();
      } finally {
        await b.close();
      }
    });
  });

  describe(`expired session (${shape})`, () => {
    let shop;
    before(async () => {
      shop = await start(shape, ['--access-ttl=2s', '--refresh-ttl=2s']);
    });
    after(async () => shop && (await shop.stop()));

    test('an expired session sends the shopper to sign in and back', T, async () => {
      const email = `ada.${shape}@e2e.test`;
      const password = 'analytical-engine';
      assert.equal((await call(shop.base, 'POST', '/api/users/register', { email, password, name: 'Ada' })).status, 201);
      const b = await openBrowser();
      const { page } = b;
      try {
        await page.goto(`${shop.base}/signin?next=%2Forders`);
        await signIn(page, email, password);
        await h1(page, 'Your orders');
        await page.goto('about:blank');
        await new Promise((r) => setTimeout(r, 3_500));
        await page.goto(`${shop.base}/orders`);
        await h1(page, 'Sign in');
        await page.getByText('Your session has expired. Please sign in again.').waitFor();
        assert.equal(new URL(page.url()).searchParams.get('next'), '/orders');
        await snap(page, shape, '30-session-expired');
        await signIn(page, email, password);
        await h1(page, 'Your orders');
        assert.equal(new URL(page.url()).pathname, '/orders');
      } finally {
        await b.close();
      }
    });
  });
}

for (const shape of shapes) {
  describe(`session refresh (${shape})`, () => {
    let shop;
    before(async () => {
      shop = await start(shape, ['--access-ttl=3s', '--refresh-ttl=5m']);
    });
    after(async () => shop && (await shop.stop()));

    test('the session is renewed from the refresh cookie, before and after expiry; no token in JS', T, async () => {
      const email = `alan.${shape}@e2e.test`;
      const password = 'enigma-machine-1939';
      assert.equal((await call(shop.base, 'POST', '/api/users/register', { email, password })).status, 201);
      const b = await openBrowser();
      const { page } = b;
      try {
        await page.goto(`${shop.base}/signin?next=%2Forders`);
        await signIn(page, email, password);
        await h1(page, 'Your orders');
        const js = await page.evaluate(() => ({ cookie: document.cookie, stored: JSON.stringify({ ...localStorage }) }));
        assert.equal(js.cookie, '', 'the session cookies are HttpOnly');
        assert.doesNotMatch(js.stored, /eyJ|refresh/i, 'no token in localStorage');

        // Open page: refreshed shortly before the 3 s token expires.
        await page.waitForTimeout(4_500);
        await page.getByRole('link', { name: 'Products' }).click();
        await page.getByRole('link', { name: 'Orders', exact: true }).click();
        await h1(page, 'Your orders');
        await page.getByText('You have no orders yet.').waitFor();

        // Closed page: the token expired meanwhile; the refresh cookie renews it.
        await page.goto('about:blank');
        await new Promise((r) => setTimeout(r, 4_000));
        await page.goto(`${shop.base}/orders`);
        await h1(page, 'Your orders');
        await page.getByText('You have no orders yet.').waitFor();
        assert.deepEqual(b.problems, []);
      } finally {
        await b.close();
      }
    });
  });
}

for (const shape of shapes) {
  describe(`registration in production mode (${shape})`, () => {
    let shop;
    before(async () => {
      shop = await start(shape, ['--mode=production']);
    });
    after(async () => shop && (await shop.stop()));

    test('a new address is signed in; a registered one is told to check its inbox', T, async () => {
      const email = `edsger.${shape}@e2e.test`;
      const b = await openBrowser();
      const { page } = b;
      try {
        await page.goto(`${shop.base}/register`);
        await h1(page, 'Create an account');
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password').fill('Qwertyuiop');
        await page.getByRole('button', { name: 'Register' }).click();
        await page.locator('#f-password-error').getByText('Is one of the most common passwords').waitFor();
        await page.getByLabel('Password').fill('goto-considered-harmful');
        await page.getByRole('button', { name: 'Register' }).click();
        await page.getByRole('button', { name: 'Sign out' }).waitFor();
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByText('You are signed out.').waitFor();

        // The same address again, with another password: the same 202 answer,
        // then the sign-in is refused, and the page says to check the inbox.
        const again = await call(shop.base, 'POST', '/api/users/register', { email, password: 'another-password-1' });
        assert.equal(again.status, 202);
        await page.goto(`${shop.base}/register`);
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password').fill('another-password-2');
        await page.getByRole('button', { name: 'Register' }).click();
        await h1(page, 'Check your inbox');
        await page.getByText(`We have sent a message to ${email}. Check your inbox.`).waitFor();
        await snap(page, shape, '40-register-check-inbox');
        await page.getByRole('link', { name: 'Sign in to your account' }).click();
        await h1(page, 'Sign in');
        await signIn(page, email, 'goto-considered-harmful');
        await page.getByRole('button', { name: 'Sign out' }).waitFor();
      } finally {
        await b.close();
      }
    });
  });
}
