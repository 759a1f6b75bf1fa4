// Checks deploy/observability offline and against real servers on loopback:
// - promtool check rules and promtool test rules over every rule file;
// - every alert has a promtool test where it fires and one where it stays
//   silent, and a runbook_url naming a section of docs/runbooks.md;
// - amtool check-config, and each severity routed to its receiver;
// - a real Alertmanager (Debian's) inhibits symptoms while their cause fires;
// - a real Prometheus (Debian's) scrapes a running `emporium serve` (scratch
//   data dir, its own port), and after a little traffic every recording rule
//   returns a series.
//
//   EMPORIUM_BINARY=build/emporium node --test tests/deploy/observability.test.mjs
//
// Needs promtool, prometheus, amtool and prometheus-alertmanager
// (scripts/install-deps.sh) and the yaml package (npm ci).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const obsDir = path.join(repoRoot, 'deploy', 'observability');
const rulesDir = path.join(obsDir, 'rules');
const testsDir = path.join(obsDir, 'tests');
const amConfig = path.join(obsDir, 'alertmanager', 'alertmanager.yml');
const runbooks = path.join(repoRoot, 'docs', 'runbooks.md');
const binary = process.env.EMPORIUM_BINARY
  ? path.resolve(process.cwd(), process.env.EMPORIUM_BINARY)
  : path.join(repoRoot, 'build', 'emporium');
const RUNBOOK_BASE = 'https://github.com/example/emporium/blob/main/docs/runbooks.md#';

const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.rules.yaml')).sort().map((f) => path.join(rulesDir, f));
const testFiles = readdirSync(testsDir).filter((f) => f.endsWith('.test.yaml')).sort().map((f) => path.join(testsDir, f));
const groups = ruleFiles.flatMap((f) => YAML.parse(readFileSync(f, 'utf8')).groups);
const alerts = groups.flatMap((g) => g.rules.filter((r) => r.alert));
const records = groups.flatMap((g) => g.rules.filter((r) => r.record));

const scratch = mkdtempSync(path.join(os.tmpdir(), 'emporium-obs-'));
const children = [];
after(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000, ...options });
  if (r.error?.code === 'ENOENT') {
    assert.fail(`${cmd} not found: run scripts/install-deps.sh (Debian packages prometheus, prometheus-alertmanager)`);
  }
  assert.ifError(r.error);
  return r;
}

// GitHub's anchors for the headings of docs/runbooks.md.
function anchors(markdown) {
  return new Set(
    [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
      m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'),
    ),
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function start(name, cmd, args, env = process.env) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.on('error', (e) => (output += `\n${name}: ${e.message}`));
  return { child, output: () => output };
}

async function waitFor(what, fn, timeoutMs, describe = () => '') {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out after ${timeoutMs / 1000}s waiting for ${what}: ${last?.message ?? last ?? ''}\n${describe()}`);
}

test('promtool check rules accepts every rule file', () => {
  assert.ok(ruleFiles.length >= 2, 'rule files under deploy/observability/rules');
  const r = run('promtool', ['check', 'rules', ...ruleFiles]);
  assert.equal(r.status, 0, `promtool check rules failed:\n${r.stdout}${r.stderr}`);
});

test('promtool test rules: every unit test passes', () => {
  assert.ok(testFiles.length > 0, 'promtool tests under deploy/observability/tests');
  const r = run('promtool', ['test', 'rules', ...testFiles], { cwd: testsDir });
  assert.equal(r.status, 0, `promtool test rules failed:\n${r.stdout}${r.stderr}`);
});

test('every alert, at each of its severities, has a test where it fires and one where it stays silent', () => {
  // Keyed on name and severity: a critical and a warning rule of one name
  // (the burn rates) each need their own cases.
  const fires = new Set();
  const silent = new Set();
  const severities = new Map();
  for (const a of alerts) severities.set(a.alert, [...(severities.get(a.alert) ?? []), a.labels?.severity]);
  for (const file of testFiles) {
    const doc = YAML.parse(readFileSync(file, 'utf8'));
    const loaded = (doc.rule_files ?? []).map((f) => path.resolve(path.dirname(file), f));
    for (const f of ruleFiles) {
      assert.ok(loaded.includes(f), `${path.basename(file)} does not load ${path.relative(repoRoot, f)}`);
    }
    for (const t of doc.tests ?? []) {
      for (const a of t.alert_rule_test ?? []) {
        const firing = new Set((a.exp_alerts ?? []).map((e) => e.exp_labels?.severity));
        for (const severity of severities.get(a.alertname) ?? []) {
          (firing.has(severity) ? fires : silent).add(`${a.alertname}/${severity}`);
        }
      }
    }
  }
  const problems = [];
  for (const a of alerts) {
    const key = `${a.alert}/${a.labels?.severity}`;
    if (!fires.has(key)) problems.push(`${key}: no test where it fires`);
    if (!silent.has(key) && a.alert !== 'EmporiumWatchdog') problems.push(`${key}: no test where it stays silent`);
  }
  assert.deepEqual(problems, []);
});

test('each environment\'s Prometheus labels its alerts with environment, which Alertmanager groups and inhibits by', () => {
  for (const env of ['dev', 'staging', 'prod']) {
    const values = YAML.parse(readFileSync(path.join(obsDir, 'prometheus', `${env}.values.yaml`), 'utf8'));
    assert.equal(values.prometheus.prometheusSpec.externalLabels.environment, env, `${env}.values.yaml: external label environment=${env}`);
  }
  const config = YAML.parse(readFileSync(amConfig, 'utf8'));
  assert.ok(config.route.group_by.includes('environment'), 'group_by has environment');
  for (const rule of config.inhibit_rules) {
    assert.ok(rule.equal.includes('environment'), `the inhibition of ${JSON.stringify(rule.target_matchers)} is within one environment`);
  }
});

test('every alert has a severity, a summary and a runbook section in docs/runbooks.md', () => {
  const sections = anchors(readFileSync(runbooks, 'utf8'));
  const problems = [];
  for (const a of alerts) {
    if (!['critical', 'warning', 'info'].includes(a.labels?.severity)) problems.push(`${a.alert}: severity ${a.labels?.severity}`);
    if (!a.annotations?.summary || !a.annotations?.description) problems.push(`${a.alert}: no summary or description`);
    const url = a.annotations?.runbook_url ?? '';
    if (!url.startsWith(RUNBOOK_BASE)) {
      problems.push(`${a.alert}: runbook_url ${url} is not under ${RUNBOOK_BASE}`);
    } else if (!sections.has(url.slice(RUNBOOK_BASE.length))) {
      problems.push(`${a.alert}: docs/runbooks.md has no section #${url.slice(RUNBOOK_BASE.length)}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('amtool check-config accepts the Alertmanager config; each severity reaches its receiver', () => {
  const r = run('amtool', ['check-config', amConfig]);
  assert.equal(r.status, 0, `amtool check-config failed:\n${r.stdout}${r.stderr}`);
  const cases = [
    [['alertname=EmporiumServiceDown', 'severity=critical'], 'pagerduty'],
    [['alertname=EmporiumHigh5xxRatio', 'severity=warning'], 'slack-warnings'],
    [['alertname=EmporiumWatchdog', 'severity=info'], 'heartbeat'],
    [['alertname=SomethingElse', 'severity=info'], 'blackhole'],
  ];
  for (const [labels, receiver] of cases) {
    const t = run('amtool', ['config', 'routes', 'test', `--config.file=${amConfig}`, `--verify.receivers=${receiver}`, ...labels]);
    assert.equal(t.status, 0, `${labels.join(' ')} is not routed to ${receiver}: ${t.stdout}${t.stderr}`);
  }
});

test('Alertmanager inhibits the symptoms while their cause fires', async () => {
  // The config's routes and inhibitions, with receivers that send nothing.
  const config = YAML.parse(readFileSync(amConfig, 'utf8'));
  config.receivers = config.receivers.map((r) => ({ name: r.name }));
  const dir = path.join(scratch, 'alertmanager');
  const file = path.join(scratch, 'alertmanager.yml');
  writeFileSync(file, YAML.stringify(config));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const am = start('alertmanager', 'prometheus-alertmanager', [
    `--config.file=${file}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ]);
  await waitFor('Alertmanager to be ready', async () => (await fetch(`${base}/-/ready`)).ok, 30_000, am.output);
  const alert = (labels) => ({ labels: { ...labels }, annotations: {}, startsAt: new Date().toISOString() });
  const posted = await fetch(`${base}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([
      alert({ alertname: 'EmporiumServiceDown', severity: 'critical', environment: 'prod', namespace: 'emporium', job: 'product' }),
      alert({ alertname: 'EmporiumHigh5xxRatio', severity: 'warning', environment: 'prod', namespace: 'emporium', job: 'gateway' }),
      alert({ alertname: 'EmporiumHigh5xxRatio', severity: 'warning', environment: 'prod', namespace: 'emporium-staging', job: 'gateway' }),
      // The same namespace in another cluster: prod's outage hides nothing of staging.
      alert({ alertname: 'EmporiumHigh5xxRatio', severity: 'warning', environment: 'staging', namespace: 'emporium', job: 'gateway' }),
      alert({ alertname: 'EmporiumGatewayErrorBudgetBurn', severity: 'critical', slo: 'availability', environment: 'prod', namespace: 'shop', job: 'gateway' }),
      alert({ alertname: 'EmporiumGatewayErrorBudgetBurn', severity: 'warning', slo: 'availability', environment: 'prod', namespace: 'shop', job: 'gateway' }),
      alert({ alertname: 'EmporiumGatewayErrorBudgetBurn', severity: 'warning', slo: 'availability', environment: 'dev', namespace: 'shop', job: 'gateway' }),
      alert({ alertname: 'EmporiumDeadLetters', severity: 'warning', environment: 'prod', namespace: 'emporium', job: 'notification', queue: 'q' }),
    ]),
  });
  assert.equal(posted.status, 200, `POST /api/v2/alerts: ${posted.status} ${await posted.text()}`);
  const key = (a) => `${a.labels.alertname}/${a.labels.severity}/${a.labels.environment}/${a.labels.namespace}`;
  const want = {
    'EmporiumServiceDown/critical/prod/emporium': 'active',
    'EmporiumHigh5xxRatio/warning/prod/emporium': 'suppressed',
    'EmporiumHigh5xxRatio/warning/prod/emporium-staging': 'active',
    'EmporiumHigh5xxRatio/warning/staging/emporium': 'active',
    'EmporiumGatewayErrorBudgetBurn/critical/prod/shop': 'active',
    'EmporiumGatewayErrorBudgetBurn/warning/prod/shop': 'suppressed',
    'EmporiumGatewayErrorBudgetBurn/warning/dev/shop': 'active',
    'EmporiumDeadLetters/warning/prod/emporium': 'active',
  };
  const states = await waitFor('the inhibitions to apply', async () => {
    const got = await (await fetch(`${base}/api/v2/alerts`)).json();
    const map = Object.fromEntries(got.map((a) => [key(a), a.status.state]));
    return JSON.stringify(map, Object.keys(want).sort()) === JSON.stringify(want, Object.keys(want).sort()) ? map : null;
  }, 30_000, async () => JSON.stringify(await (await fetch(`${base}/api/v2/alerts`)).json()));
  assert.deepEqual(states, want);
  // One notification group per environment: prod's and staging's 5xx of the same namespace are apart.
  const groups = await (await fetch(`${base}/api/v2/alerts/groups`)).json();
  const fiveXx = groups.filter((g) => g.labels.alertname === 'EmporiumHigh5xxRatio' && g.labels.namespace === 'emporium');
  assert.deepEqual(fiveXx.map((g) => g.labels.environment).sort(), ['prod', 'staging'], JSON.stringify(fiveXx.map((g) => g.labels)));
});

test('a real Prometheus scraping `emporium serve` gets a series from every recording rule', async () => {
  const data = path.join(scratch, 'shop');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EMPORIUM_')));
  const shop = start('emporium', binary, ['serve', '--listen=127.0.0.1:0', '--admin-listen=127.0.0.1:0', `--data-dir=${data}`], env);
  const shopPort = await waitFor('emporium to listen', () => {
    const m = /"msg":"listening".*?"port":(\d+)/.exec(shop.output());
    return m ? Number(m[1]) : null;
  }, 60_000, shop.output);
  const shopUrl = `http://127.0.0.1:${shopPort}`;
  // Prometheus scrapes the admin listener: the public port has no /metrics.
  const adminPort = Number(/"msg":"admin listening".*?"port":(\d+)/.exec(shop.output())?.[1]);
  assert.ok(adminPort > 0, `no admin listener in the output:\n${shop.output()}`);

  const promPort = await freePort();
  const promUrl = `http://127.0.0.1:${promPort}`;
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    // The all-in-one answers for every service: scraped once per service's
    // job, as the split shape is, so EmporiumServiceDown's absent() stays silent.
    scrape_configs: ['gateway', 'product', 'user', 'cart', 'order', 'notification'].map((job) => ({
      job_name: job, static_configs: [{ targets: [`127.0.0.1:${adminPort}`] }],
    })),
  };
  const configFile = path.join(scratch, 'prometheus.yml');
  writeFileSync(configFile, YAML.stringify(config));
  const check = run('promtool', ['check', 'config', configFile]);
  assert.equal(check.status, 0, `promtool check config:\n${check.stdout}${check.stderr}`);
  const prom = start('prometheus', 'prometheus', [
    `--config.file=${configFile}`, `--storage.tsdb.path=${path.join(scratch, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
  await waitFor('Prometheus to be ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000, prom.output);

  // Every job scraped once before the traffic, so that the rates see it grow.
  await waitFor('a first scrape of every job', async () => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('count(up == 1)')}`);
    const body = await res.json();
    return Number(body.data?.result?.[0]?.value?.[1] ?? 0) === config.scrape_configs.length;
  }, 60_000, prom.output);

  // A little traffic: the catalog, a 404, a sign-up, a failed and a good sign-in.
  const email = `obs-${Date.now()}@example.com`;
  const call = (p, body) =>
    fetch(`${shopUrl}${p}`, body ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {});
  for (let round = 0; round < 5; round += 1) {
    for (let i = 0; i < 10; i += 1) assert.equal((await call('/api/products?limit=5')).status, 200);
    assert.equal((await call('/api/products/999999')).status, 404);
    if (round === 0) assert.equal((await call('/api/users/register', { email, password: 'long-password-1' })).status, 201);
    assert.equal((await call('/api/users/login', { email, password: 'wrong-password' })).status, 401);
    assert.equal((await call('/api/users/login', { email, password: 'long-password-1' })).status, 200);
    await new Promise((r) => setTimeout(r, 1200));
  }

  const query = async (q) => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = await res.json();
    assert.equal(body.status, 'success', `query ${q}: ${JSON.stringify(body)}`);
    return body.data.result;
  };
  const names = [...new Set(records.map((r) => r.record))];
  const missing = new Set(names);
  await waitFor('a series from every recording rule', async () => {
    for (const n of [...missing]) {
      if ((await query(n)).length > 0) missing.delete(n);
    }
    return missing.size === 0;
  }, 120_000, () => `no series yet from: ${[...missing].join(', ')}`);
  // The rate needs two scrapes apart with traffic between them: on a loaded
  // machine the first scrape may come after the traffic above, so keep a
  // little going until the rule sees it.
  await waitFor('the gateway\'s request rate to be above 0', async () => {
    assert.equal((await call('/api/products?limit=1')).status, 200);
    const requests = await query('job:emporium_http_requests:rate5m{job="gateway"}');
    return requests.length > 0 && Number(requests[0].value[1]) > 0;
  }, 60_000);
  const failures = await query('job:emporium_login_failures:ratio_rate5m');
  // Half of the sign-ins failed. rate() extrapolates each series over its own
  // samples, and the 401 and 200 series start at different scrapes, so the
  // ratio of two short-lived rates is near 0.5, not exactly it (0.57 seen).
  const ratio = Number(failures[0]?.value[1]);
  assert.ok(ratio > 0.3 && ratio < 0.7, `about half of the sign-ins failed: ${JSON.stringify(failures)}`);
  const errors = await query('job:emporium_http_errors:ratio_rate5m{job="gateway"}');
  assert.equal(Number(errors[0].value[1]), 0, 'no 5xx: the error ratio is 0, not absent');
  const up = await waitFor('the Watchdog to fire', async () => {
    const firing = await query('ALERTS{alertstate="firing"}');
    return firing.some((a) => a.metric.alertname === 'EmporiumWatchdog') ? firing : null;
  }, 30_000);
  assert.deepEqual(up.map((a) => a.metric.alertname), ['EmporiumWatchdog'], 'only the Watchdog fires on a healthy shop');
});
