// deploy.podman: the Kubernetes `local` manifests (deploy/k8s/overlays/local)
// run for real, with podman, from the image scripts/image.sh builds, and the
// shop's journey through the gateway they start.
//
//   1. scripts/image.sh builds localhost/emporium:local from the build dir.
//   2. `kubectl kustomize` renders overlays/local from a copy of deploy/k8s
//      whose git-ignored env files (secrets.env, stores.env) are written from
//      their .example with this run's values (data-store URLs, JWT key, admin
//      password), under an overlay generated here that patches the rest into
//      the ConfigMap emporium-config (the services' URLs, the admin email).
//   3. The rendered objects are adapted to what `podman kube play` (4.3) runs:
//      - kept: ConfigMaps, and the Deployments and Jobs that run the Emporium
//        image; every other kind (and the overlay's own data stores) is left
//        out, and listed in the output;
//      - Secrets become podman secrets (kube play 4.3 stores a Secret it
//        plays as YAML, then fails to read it back);
//      - each Deployment: 1 replica, hostNetwork with its own free
//        127.0.0.1 port (`--listen` appended to its args, and
//        `--admin-listen=127.0.0.1:0`; the other services'
//        URLs in the ConfigMap point at those ports; containerPorts removed,
//        as podman refuses port mappings on the host network), probes
//        removed (podman runs a liveness probe through a shell the image
//        does not have, and ignores readiness), imagePullPolicy Never, names
//        prefixed so nothing else on the machine is touched, each emptyDir
//        its own volume;
//      - each Job: its pod template as a Pod with restartPolicy Never;
//      - where a container's `env` names a key that its `envFrom` also
//        provides, podman 4.3 lets envFrom win while Kubernetes lets env win:
//        such envFrom sources are spelled out as keyRefs before env.
//      The pod and container securityContext (runAsNonRoot, runAsUser,
//      readOnlyRootFilesystem, allowPrivilegeEscalation: false, drop ALL) is
//      kept, and checked on the running containers.
//   4. `podman kube play` of the Jobs (the migration), waited for until they
//      exit 0, as docs/deploy.md has `kubectl wait` do; then of the
//      Deployments, and /readyz polled on every service's port.
//   5. The journey through the gateway: an admin (EMPORIUM_ADMIN_EMAIL and
//      EMPORIUM_ADMIN_PASSWORD from the ConfigMap and Secret) creates a
//      product; a customer registers, logs in, reads it, adds 2 to the cart,
//      orders with an address; the cart is empty afterwards, the stock went
//      down by 2, and the order confirmation reached the SMTP server.
//   6. Teardown, also on failure or SIGINT/SIGTERM: `podman kube down`, any
//      pod, secret or volume left with this test's prefix, the database, the
//      broker, the temp dir.
//
// Data stores are the servers scripts/test.sh starts on loopback
// (EMPORIUM_TEST_DATABASE_URL: a fresh database per run;
// EMPORIUM_TEST_REDIS_URL; EMPORIUM_TEST_SMTP_URL and
// EMPORIUM_TEST_MAILDEV_URL), except RabbitMQ: a private broker from
// scripts/local-services.sh, because the notification service consumes the
// shared broker's `notification` queue, which the notification tests read
// at the same time. Everything listens on 127.0.0.1 only.
//
// What podman does not exercise, so this test does not check it: Services
// and cluster DNS (services reach each other on 127.0.0.1 ports), readiness
// gating of traffic and rollouts (probes removed; readiness is polled here),
// liveness restarts, replicas > 1 and rolling updates, HPAs,
// PodDisruptionBudgets, NetworkPolicies, Ingress, StatefulSets and PVCs of
// the in-cluster data stores, Job semantics (backoffLimit,
// activeDeadlineSeconds; the ordering is this test's), ServiceAccounts and
// RBAC, namespaces, resource requests and scheduling (limits are applied),
// topology spread and affinity, emptyDir sizeLimit, fsGroup (ignored: the
// volumes take the image's ownership of /data and /tmp, 10001; podman's
// default seccomp profile stands in for RuntimeDefault), and Kubernetes'
// env-over-envFrom precedence (emulated as above).
//
// Environment: EMPORIUM_BUILD_DIR (default build), EMPORIUM_K8S_DIR (default
// deploy/k8s), the EMPORIUM_TEST_* URLs above. Needs podman, buildah and
// kubectl; run as root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildDir = path.resolve(root, process.env.EMPORIUM_BUILD_DIR ?? 'build');
const k8sDir = path.resolve(root, process.env.EMPORIUM_K8S_DIR ?? 'deploy/k8s');
const image = 'localhost/emporium:local';
const prefix = 'emporium-podtest-';
const services = ['product', 'user', 'cart', 'order', 'notification', 'gateway'];
const deadline = Date.now() + 12 * 60 * 1000;

const log = (...a) => console.log('#', ...a);

// Runs a command; returns its stdout. Throws with its stderr when it fails,
// unless `ok` is set.
function run(cmd, args, { input, timeout = 120_000, ok = false, env } = {}) {
  const r = spawnSync(cmd, args, {
    input,
    timeout: Math.max(1000, Math.min(timeout, deadline - Date.now() + 60_000)),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: env ? { ...process.env, ...env } : process.env,
  });
  if (!ok && (r.error || r.status !== 0)) {
    const why = r.error ? r.error.message : `exit ${r.status}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}\n${r.stderr ?? ''}${r.stdout ?? ''}`.trim());
  }
  return r.stdout ?? '';
}

function need(name) {
  const v = process.env[name];
  assert.ok(v, `${name} is not set: run through scripts/test.sh, or eval "$(scripts/local-services.sh start DIR)"`);
  return v;
}

// Free 127.0.0.1 ports, held together while chosen so they are distinct.
async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function eventually(what, fn, ms) {
  const until = Math.min(Date.now() + ms, deadline);
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await sleep(250);
  }
}

async function http(port, method, target, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`http://127.0.0.1:${port}${target}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const raw = await res.text();
  let json = null;
  try {
    json = JSON.parse(raw);
  } catch {
    // not JSON
  }
  return { status: res.status, json, raw };
}

// --- rendering ----------------------------------------------------------------

const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

// Renders overlays/local with this run's values, from a copy of deploy/k8s:
// the overlay's git-ignored env files (secrets.env, stores.env) are written
// from their .example, with this run's value for each key it sets and a
// random one for every other change-me. Values for keys no env file has go
// into the ConfigMap emporium-config, through an overlay generated on top
// (the Secret emporium-secrets for `secretKeys`).
function render(dir, values, secretKeys) {
  const tree = path.join(dir, 'k8s');
  fs.cpSync(k8sDir, tree, {
    recursive: true,
    filter: (src) => !(src.endsWith('.env') && fs.existsSync(`${src}.example`)),
  });
  const local = path.join(tree, 'overlays', 'local');
  assert.ok(fs.existsSync(path.join(local, 'kustomization.yaml')), `no ${k8sDir}/overlays/local/kustomization.yaml`);
  const rest = { ...values };
  for (const example of fs.readdirSync(local).filter((f) => f.endsWith('.env.example'))) {
    const lines = fs.readFileSync(path.join(local, example), 'utf8').split('\n').map((line) => {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (!m) return line;
      if (m[1] in rest) {
        const v = rest[m[1]];
        delete rest[m[1]];
        return `${m[1]}=${v}`;
      }
      return `${m[1]}=${m[2].replaceAll('change-me', randomBytes(12).toString('hex'))}`;
    });
    fs.writeFileSync(path.join(local, example.replace(/\.example$/, '')), lines.join('\n'), { mode: 0o600 });
  }
  const config = {};
  const secret = {};
  for (const [k, v] of Object.entries(rest)) {
    if (secretKeys.includes(k)) secret[k] = b64(v);
    else config[k] = v;
  }
  const overlay = path.join(dir, 'overlay');
  fs.mkdirSync(overlay, { recursive: true });
  const patches = [
    { patch: YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'emporium-config' }, data: config }) },
  ];
  if (Object.keys(secret).length) {
    patches.push({ patch: YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'emporium-secrets' }, data: secret }) });
  }
  fs.writeFileSync(path.join(overlay, 'kustomization.yaml'), YAML.stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [path.relative(overlay, local)],
    patches,
  }));
  const out = run('kubectl', ['kustomize', overlay]);
  fs.writeFileSync(path.join(dir, 'rendered.yaml'), out);
  return YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
}

const runsImage = (spec) => (spec?.containers ?? []).some((c) => c.image === image);
const argsOf = (c) => [...(c.command ?? []), ...(c.args ?? [])];

function serviceOf(deployment) {
  for (const c of deployment.spec.template.spec.containers ?? []) {
    for (const a of argsOf(c)) {
      const m = /^--services=(.+)$/.exec(a);
      if (m) return m[1];
    }
  }
  return deployment.metadata.name;
}

// Adapts rendered objects to podman kube play; see the top of this file.
// Returns { jobs, deployments } (YAML and what runs), the podman secrets to
// create and the kinds left out.
function adapt(objects, ports) {
  const configMaps = new Map();
  const secrets = new Map();
  const deployments = [];
  const jobs = [];
  const dropped = {};
  const drop = (what) => {
    dropped[what] = (dropped[what] ?? 0) + 1;
  };
  for (const o of objects) {
    if (o.kind === 'ConfigMap') configMaps.set(o.metadata.name, o);
    else if (o.kind === 'Secret') secrets.set(o.metadata.name, o);
    else if (o.kind === 'Deployment' && runsImage(o.spec.template.spec)) deployments.push(o);
    else if (o.kind === 'Job' && runsImage(o.spec.template.spec)) jobs.push(o);
    else drop(o.kind === 'Deployment' || o.kind === 'Job' ? `${o.kind} ${o.metadata.name}` : o.kind);
  }
  const secretName = (n) => prefix + n;
  const keysOf = (ref) => {
    if (ref.configMapRef) return Object.keys(configMaps.get(ref.configMapRef.name)?.data ?? {});
    if (ref.secretRef) return Object.keys(secrets.get(ref.secretRef.name)?.data ?? {});
    return [];
  };

  // What every pod gets: host network, no probes, local image, its own
  // volumes, podman secrets, Kubernetes' env precedence.
  const adaptPod = (owner, pod) => {
    pod.hostNetwork = true;
    const volumes = new Map();
    for (const v of pod.volumes ?? []) {
      if (v.emptyDir) {
        const unique = `${owner}-${v.name}`;
        volumes.set(v.name, unique);
        v.name = unique;
      }
    }
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      delete c.livenessProbe;
      delete c.readinessProbe;
      delete c.startupProbe;
      // On the host network a container port is the host's port, which
      // `--listen` sets; podman refuses port mappings there.
      delete c.ports;
      if (c.image === image) c.imagePullPolicy = 'Never';
      for (const m of c.volumeMounts ?? []) {
        if (volumes.has(m.name)) m.name = volumes.get(m.name);
      }
      // Kubernetes: env beats envFrom. podman 4.3: envFrom beats env.
      const own = new Set((c.env ?? []).map((e) => e.name));
      const kept = [];
      const spelled = [];
      for (const ref of c.envFrom ?? []) {
        const keys = keysOf(ref);
        if (ref.prefix || !keys.some((k) => own.has(k))) {
          kept.push(ref);
          continue;
        }
        for (const k of keys.filter((key) => !own.has(key))) {
          spelled.push(ref.configMapRef
            ? { name: k, valueFrom: { configMapKeyRef: { name: ref.configMapRef.name, key: k } } }
            : { name: k, valueFrom: { secretKeyRef: { name: ref.secretRef.name, key: k } } });
        }
      }
      if (c.envFrom) c.envFrom = kept;
      if (c.env || spelled.length) c.env = [...spelled, ...(c.env ?? [])];
      for (const ref of c.envFrom ?? []) {
        if (ref.secretRef) ref.secretRef.name = secretName(ref.secretRef.name);
      }
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef) e.valueFrom.secretKeyRef.name = secretName(e.valueFrom.secretKeyRef.name);
      }
    }
    for (const v of pod.volumes ?? []) {
      if (v.secret) v.secret.secretName = secretName(v.secret.secretName);
    }
  };

  const seen = new Set();
  const running = [];
  for (const d of deployments) {
    const service = serviceOf(d);
    assert.ok(ports[service], `Deployment ${d.metadata.name} runs unknown service '${service}'`);
    assert.ok(!seen.has(service), `two Deployments run '${service}'`);
    seen.add(service);
    const name = prefix + d.metadata.name;
    d.metadata.name = name;
    d.spec.replicas = 1;
    const pod = d.spec.template.spec;
    adaptPod(d.metadata.name, pod);
    const main = pod.containers.find((c) => argsOf(c).includes('serve'));
    assert.ok(main, `Deployment ${name}: no container runs 'serve'`);
    // Six pods on one host network cannot all hold admin_listen's 9090:
    // each takes a free loopback port (this test reads no /metrics).
    main.args = [...(main.args ?? []), `--listen=127.0.0.1:${ports[service]}`,
      '--admin-listen=127.0.0.1:0'];
    running.push({ service, container: `${name}-pod-0-${main.name}` });
  }
  const missing = services.filter((s) => !seen.has(s));
  assert.deepEqual(missing, [], `no Deployment for ${missing.join(', ')}`);

  // A Job's pod template as a Pod that runs once; kube play has no Jobs.
  const once = jobs.map((j) => {
    const name = prefix + j.metadata.name;
    const pod = structuredClone(j.spec.template.spec);
    pod.restartPolicy = 'Never';
    adaptPod(name, pod);
    return {
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: j.spec.template.metadata?.labels ?? {} },
        spec: pod,
      },
      containers: pod.containers.map((c) => `${name}-${c.name}`),
    };
  });

  const toYaml = (list) => list.map((o) => YAML.stringify(o)).join('---\n');
  return {
    jobs: once.length ? { yaml: toYaml([...configMaps.values(), ...once.map((o) => o.object)]), containers: once.flatMap((o) => o.containers) } : null,
    services: { yaml: toYaml([...configMaps.values(), ...deployments]), running },
    secrets: [...secrets.values()].map((s) => ({ name: secretName(s.metadata.name), data: s.data ?? {} })),
    dropped,
  };
}

// --- the run ------------------------------------------------------------------

const state = { dir: null, playFiles: [], database: null, rabbitDir: null, containers: [] };

function dumpLogs() {
  for (const c of state.containers) {
    const r = spawnSync('podman', ['logs', '--tail', '40', c], { encoding: 'utf8', timeout: 20_000 });
    log(`--- ${c}\n${r.stdout ?? ''}${r.stderr ?? ''}`.replaceAll('\n', '\n# '));
  }
}

function removeLeftovers() {
  const pods = run('podman', ['pod', 'ps', '--format', '{{.Name}}'], { ok: true }).split('\n')
    .filter((n) => n.startsWith(prefix));
  if (pods.length) run('podman', ['pod', 'rm', '-f', '-t', '5', ...pods], { ok: true, timeout: 120_000 });
  const secrets = run('podman', ['secret', 'ls', '--format', '{{.Name}}'], { ok: true }).split('\n')
    .filter((n) => n.startsWith(prefix));
  if (secrets.length) run('podman', ['secret', 'rm', ...secrets], { ok: true });
  const volumes = run('podman', ['volume', 'ls', '--format', '{{.Name}}'], { ok: true }).split('\n')
    .filter((n) => n.startsWith(prefix));
  if (volumes.length) run('podman', ['volume', 'rm', '-f', ...volumes], { ok: true });
}

let tornDown = false;
function teardown() {
  if (tornDown) return;
  tornDown = true;
  for (const file of state.playFiles.reverse()) {
    run('podman', ['kube', 'down', file], { ok: true, timeout: 120_000 });
  }
  removeLeftovers();
  if (state.database) {
    run('psql', [state.database.admin, '-X', '-q', '-c', `DROP DATABASE IF EXISTS ${state.database.name} WITH (FORCE)`],
      { ok: true, timeout: 30_000 });
  }
  if (state.rabbitDir) {
    run(path.join(root, 'scripts/local-services.sh'), ['stop', state.rabbitDir],
      { ok: true, timeout: 120_000, env: { EMPORIUM_TEST_SERVICES: 'rabbitmq' } });
  }
  if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
  if (state.rabbitDir) fs.rmSync(state.rabbitDir, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: tearing down`);
    teardown();
    process.exit(1);
  });
}

before(() => {
  for (const tool of ['podman', 'buildah', 'kubectl', 'psql']) {
    assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0,
      `${tool} is not installed (scripts/install-deps.sh)`);
  }
  removeLeftovers();
});

after(teardown);

test('the Kubernetes local manifests run under podman kube play and serve the shop', { timeout: 12 * 60 * 1000 }, async () => {
  const started = Date.now();
  const databaseUrl = need('EMPORIUM_TEST_DATABASE_URL');
  const redisUrl = need('EMPORIUM_TEST_REDIS_URL');
  const smtpUrl = need('EMPORIUM_TEST_SMTP_URL');
  const maildevUrl = process.env.EMPORIUM_TEST_MAILDEV_URL;

  // 1. The image.
  run(path.join(root, 'scripts/image.sh'), [buildDir], { timeout: 300_000 });
  log(`image built (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emporium-podman-'));

  // A fresh database on the test PostgreSQL.
  const dbName = `podtest_${randomBytes(6).toString('hex')}`;
  state.database = { admin: databaseUrl, name: dbName };
  run('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${dbName}`]);
  const dbUrl = new URL(databaseUrl);
  dbUrl.pathname = `/${dbName}`;

  // A private RabbitMQ (see the top of this file).
  const ports = await freePorts(services.length + 4);
  const port = Object.fromEntries(services.map((s, i) => [s, ports[i]]));
  const [amqp, dist, epmd, amqps] = ports.slice(services.length);
  state.rabbitDir = fs.mkdtempSync('/tmp/emporium-podman-amqp.');
  const exports = run(path.join(root, 'scripts/local-services.sh'), ['start', state.rabbitDir], {
    timeout: 180_000,
    env: {
      EMPORIUM_TEST_SERVICES: 'rabbitmq',
      EMPORIUM_TEST_AMQP_PORT: String(amqp),
      EMPORIUM_TEST_AMQP_DIST_PORT: String(dist),
      EMPORIUM_TEST_EPMD_PORT: String(epmd),
      EMPORIUM_TEST_AMQPS_PORT: String(amqps),
    },
  });
  const amqpUrl = /EMPORIUM_TEST_AMQP_URL=(\S+)/.exec(exports)?.[1];
  assert.ok(amqpUrl, `local-services.sh printed no AMQP URL: ${exports}`);
  log(`private RabbitMQ on ${amqp} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  // 2. Render.
  const adminEmail = `admin-${randomBytes(4).toString('hex')}@example.com`;
  const adminPassword = randomBytes(12).toString('hex');
  const url = (s) => `http://127.0.0.1:${port[s]}`;
  const objects = render(state.dir, {
    EMPORIUM_PRODUCT_URL: url('product'),
    EMPORIUM_USER_URL: url('user'),
    EMPORIUM_CART_URL: url('cart'),
    EMPORIUM_ORDER_URL: url('order'),
    EMPORIUM_NOTIFICATION_URL: url('notification'),
    EMPORIUM_DATABASE_URL: dbUrl.toString(),
    EMPORIUM_REDIS_URL: redisUrl,
    EMPORIUM_AMQP_URL: amqpUrl,
    EMPORIUM_SMTP_URL: smtpUrl,
    EMPORIUM_ADMIN_EMAIL: adminEmail,
    EMPORIUM_JWT_SECRET: randomBytes(32).toString('hex'),
    EMPORIUM_ADMIN_PASSWORD: adminPassword,
  }, ['EMPORIUM_JWT_SECRET', 'EMPORIUM_ADMIN_PASSWORD']);

  // 3. Adapt.
  const play = adapt(objects, port);
  log(`rendered ${objects.length} objects; left out for podman: ${JSON.stringify(play.dropped)}`);
  // podman reads a secret's keys from a JSON object of base64 values.
  for (const s of play.secrets) {
    const file = path.join(state.dir, `${s.name}.json`);
    fs.writeFileSync(file, JSON.stringify(s.data), { mode: 0o600 });
    run('podman', ['secret', 'rm', s.name], { ok: true });
    run('podman', ['secret', 'create', s.name, file]);
    fs.rmSync(file);
  }
  const playFile = (name, yaml) => {
    const file = path.join(state.dir, name);
    fs.writeFileSync(file, yaml);
    state.playFiles.push(file);
    return file;
  };

  // 4. The Jobs (migrations) first, to completion, as `kubectl wait` would.
  if (play.jobs) {
    state.containers = play.jobs.containers;
    run('podman', ['kube', 'play', '--quiet', playFile('jobs.yaml', play.jobs.yaml)], { timeout: 300_000 });
    for (const c of play.jobs.containers) {
      const code = run('podman', ['wait', c], { timeout: 300_000 }).trim();
      if (code !== '0') dumpLogs();
      assert.equal(code, '0', `${c} exited with ${code}`);
    }
    log(`jobs done: ${play.jobs.containers.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }

  // Then the services, and every one ready.
  state.containers = play.services.running.map((r) => r.container);
  run('podman', ['kube', 'play', '--quiet', playFile('services.yaml', play.services.yaml)], { timeout: 300_000 });
  log(`played (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  try {
    await Promise.all(services.map((s) => eventually(`${s} /readyz on ${port[s]}`,
      async () => (await http(port[s], 'GET', '/readyz')).status === 200, 90_000)));
  } catch (e) {
    dumpLogs();
    throw e;
  }
  log(`every service ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  // The securityContext reached the containers.
  for (const { container } of play.services.running) {
    const info = JSON.parse(run('podman', ['inspect', container]))[0];
    assert.equal(info.State.Running, true, `${container} is not running`);
    assert.equal(info.HostConfig.ReadonlyRootfs, true, `${container}: root file system writable`);
    assert.deepEqual(info.EffectiveCaps ?? [], [], `${container}: capabilities ${info.EffectiveCaps}`);
    assert.match(info.Config.User, /^10001(:10001)?$/, `${container}: user ${info.Config.User}`);
    assert.ok((info.HostConfig.SecurityOpt ?? []).includes('no-new-privileges'),
      `${container}: privileges can be escalated`);
  }

  // 5. The journey through the gateway.
  try {
    const gw = port.gateway;
    const list = await http(gw, 'GET', '/api/products?limit=5');
    assert.equal(list.status, 200, list.raw);
    assert.ok(Array.isArray(list.json.products), list.raw);

    const admin = await http(gw, 'POST', '/api/users/login', { body: { email: adminEmail, password: adminPassword } });
    assert.equal(admin.status, 200, `admin login: ${admin.raw}`);
    const created = await http(gw, 'POST', '/api/products', {
      token: admin.json.token,
      body: { name: 'Podman Lamp', price: 24.99, stock: 7, category: 'Home' },
    });
    assert.equal(created.status, 201, created.raw);
    const productId = created.json.id;

    const email = `ann-${randomBytes(4).toString('hex')}@example.com`;
    const password = 'long-password-for-ann';
    const reg = await http(gw, 'POST', '/api/users/register', { body: { email, password, name: 'Ann' } });
    // Production mode: the same answer for a new and a registered address.
    assert.equal(reg.status, 202, reg.raw);
    assert.equal(reg.json.id, undefined, reg.raw);
    const login = await http(gw, 'POST', '/api/users/login', { body: { email, password } });
    assert.equal(login.status, 200, login.raw);
    const userId = login.json.user.id;
    const token = login.json.token;

    const product = await http(gw, 'GET', `/api/products/${productId}`);
    assert.equal(product.status, 200, product.raw);
    assert.equal(product.json.name, 'Podman Lamp');
    assert.equal(product.json.stock, 7);

    const added = await http(gw, 'POST', `/api/cart/${userId}/items`, { token, body: { productId, quantity: 2 } });
    assert.equal(added.status, 201, added.raw);
    const cart = await http(gw, 'GET', `/api/cart/${userId}`, { token });
    assert.equal(cart.status, 200, cart.raw);
    assert.equal(cart.json.items.length, 1, cart.raw);
    assert.match(cart.raw, /"total":49\.98/);

    const order = await http(gw, 'POST', '/api/orders', {
      token,
      body: {
        userId,
        shippingAddress: { street: '1 Main St', city: 'Springfield', state: 'IL', zipCode: '62701', country: 'US' },
      },
    });
    assert.equal(order.status, 201, order.raw);
    assert.equal(order.json.status, 'pending');
    assert.match(order.raw, /"total":49\.98/);

    await eventually('the cart to be empty', async () => {
      const after = await http(gw, 'GET', `/api/cart/${userId}`, { token });
      return after.status === 200 && after.json.items.length === 0;
    }, 20_000);
    const stock = await http(gw, 'GET', `/api/products/${productId}`);
    assert.equal(stock.status, 200, stock.raw);
    assert.equal(stock.json.stock, 5, stock.raw);
    const orders = await http(gw, 'GET', `/api/orders?userId=${userId}`, { token });
    assert.equal(orders.status, 200, orders.raw);
    assert.equal(orders.json.length, 1, orders.raw);
    assert.equal(orders.json[0]._id, orders.json[0].id, orders.raw);

    // The notification service got the event over RabbitMQ and mailed it.
    if (maildevUrl) {
      await eventually(`the order confirmation to ${email}`, async () => {
        const res = await fetch(`${maildevUrl}/api/email`, { signal: AbortSignal.timeout(5000) });
        const mails = await res.json();
        return mails.some((m) => (m.to ?? []).some((t) => t.address === email) && /is confirmed/.test(m.subject));
      }, 30_000);
    }
  } catch (e) {
    dumpLogs();
    throw e;
  }
  log(`journey done (${((Date.now() - started) / 1000).toFixed(1)} s)`);
});
