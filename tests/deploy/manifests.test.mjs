// Checks the Kubernetes manifests under deploy/k8s offline: every overlay
// renders with `kubectl kustomize`, every object is a valid Kubernetes object
// (kubernetes-models) without unknown fields, and the project's policies hold:
// probes, resources, security context, pinned images, settings the binary
// knows, Services and autoscalers that point at real workloads, network
// policies that allow exactly the calls Emporium makes, a migration Job that
// can run before the rollout, and no secret in the repository.
//
//   npm ci                                  # once: kubernetes-models, yaml
//   node --test tests/deploy/manifests.test.mjs
//   EMPORIUM_BINARY=/path/to/emporium KUBECTL=/path/to/kubectl node --test tests/deploy/
//
// The overlays read secrets.env files that are never committed: the test
// renders a temporary copy of deploy/k8s in which each *.env.example stands in
// for its *.env (the real files, if any, are not read).

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const k8sDir = path.join(repoRoot, 'deploy', 'k8s');
const kubectl = process.env.KUBECTL || 'kubectl';
const binary = process.env.EMPORIUM_BINARY
  ? path.resolve(process.cwd(), process.env.EMPORIUM_BINARY)
  : path.join(repoRoot, 'build', 'emporium');

const NAMESPACE = 'emporium';
const EMPORIUM_USER = 10001;
const SERVICES = ['product', 'user', 'cart', 'order', 'notification', 'gateway'];

// Who calls whom over HTTP (src/*/service.cpp, src/gateway): the flows the
// network policies must allow, and the only ones between Emporium's pods.
const CALLS = {
  gateway: ['product', 'user', 'cart', 'order'],
  cart: ['product'],
  order: ['product', 'cart'],
  notification: ['user'],
};
// Which components use which data store.
const STORE_USERS = {
  postgresql: ['product', 'user', 'cart', 'order', 'notification', 'migration', 'backup', 'restore'],
  redis: ['product', 'gateway'],
  rabbitmq: ['product', 'user', 'order', 'notification', 'migration'],
  smtp: ['notification'],
};

// The AWS shape (eks and the environments on its aws/ part): the image from
// ECR, every data store a managed service at an address in the VPC.
const ECR_IMAGE = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/emporium:v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;
function onAws(overlay, minReplicas, environment) {
  return {
    overlay,
    image: ECR_IMAGE,
    minReplicas,
    preRollout: ['shared', 'migration'],
    stores: {
      postgresql: { vpc: true, ports: [5432] },
      redis: { vpc: true, ports: [6379] },
      rabbitmq: { vpc: true, ports: [5671] },
      smtp: { vpc: true, ports: [465] },
    },
    edge: 'ingress',
    ...(environment ? { environment: { ...environment, minReplicas } } : {}),
  };
}

// What each rendered variant must look like. `stores`: where each data store
// is (pods of the overlay, or managed services at an address in the VPC).
const VARIANTS = {
  local: {
    overlay: 'overlays/local',
    image: /^localhost\/emporium:local$/,
    minReplicas: 1,
    preRollout: ['shared', 'store', 'migration'],
    stores: {
      postgresql: { pod: 'postgresql', ports: [5432] },
      redis: { pod: 'redis', ports: [6379] },
      rabbitmq: { pod: 'rabbitmq', ports: [5672] },
      smtp: { pod: 'maildev', ports: [1025] },
    },
    edge: null,
  },
  eks: onAws('overlays/eks', 2),
  // The environments Argo CD syncs (deploy/argocd): eks's aws/ part, the
  // Secret from Secrets Manager (External Secrets), the Prometheus
  // Operator's objects, and each environment's own bounds and range.
  dev: onAws('overlays/dev', 1, { host: 'dev.shop.example.com', vpc: '10.2.0.0/16', gatewayMax: 2 }),
  staging: onAws('overlays/staging', 2, { host: 'staging.shop.example.com', vpc: '10.1.0.0/16', gatewayMax: 4 }),
  prod: onAws('overlays/prod', 3, { host: 'shop.example.com', vpc: '10.0.0.0/16', gatewayMax: 20 }),
  'eks+gateway-api': { ...onAws('overlays/eks', 2), components: ['../../components/gateway-api'], edge: 'httproute' },
};

// ---------------------------------------------------------------- rendering

let workdir = null;
const renders = new Map();

after(() => {
  if (workdir) {
    rmSync(workdir, { recursive: true, force: true });
  }
});

function walkFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      out.push(...walkFiles(full));
    } else {
      out.push(full);
    }
  }
  return out;
}

// A copy of deploy/k8s without any real *.env file, each replaced by its example.
function copyTree() {
  if (workdir) {
    return workdir;
  }
  workdir = mkdtempSync(path.join(os.tmpdir(), 'emporium-k8s-'));
  cpSync(k8sDir, workdir, { recursive: true, filter: (src) => !src.endsWith('.env') });
  for (const file of walkFiles(workdir)) {
    if (file.endsWith('.env.example')) {
      cpSync(file, file.slice(0, -'.example'.length));
    }
  }
  return workdir;
}

function runKubectl(args) {
  const run = spawnSync(kubectl, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (run.error?.code === 'ENOENT') {
    assert.fail(
      `kubectl not found (looked for "${kubectl}" on PATH; set KUBECTL to its path). ` +
        'The manifest checks need kubectl 1.27 or newer, which bundles kustomize.',
    );
  }
  assert.ifError(run.error);
  return run;
}

// Renders a variant once; returns its objects.
function render(name) {
  if (renders.has(name)) {
    return renders.get(name);
  }
  const variant = VARIANTS[name];
  const root = copyTree();
  let dir = path.join(root, variant.overlay);
  if (variant.components) {
    // As docs/deploy.md says: add the component to the overlay's kustomization.
    const copy = path.join(root, 'overlays', name.replace(/[^a-z0-9-]/g, '-'));
    cpSync(dir, copy, { recursive: true });
    const file = path.join(copy, 'kustomization.yaml');
    const kustomization = YAML.parse(readFileSync(file, 'utf8'));
    kustomization.components = [...(kustomization.components ?? []), ...variant.components];
    writeFileSync(file, YAML.stringify(kustomization));
    dir = copy;
  }
  const run = runKubectl(['kustomize', dir]);
  assert.equal(run.status, 0, `kubectl kustomize ${variant.overlay} failed:\n${run.stderr}`);
  const objects = YAML.parseAllDocuments(run.stdout)
    .map((doc) => {
      assert.deepEqual(doc.errors, [], `kubectl kustomize ${variant.overlay} printed invalid YAML`);
      return doc.toJS();
    })
    .filter(Boolean);
  assert.ok(objects.length > 0, `kubectl kustomize ${variant.overlay} rendered nothing`);
  renders.set(name, objects);
  return objects;
}

// ------------------------------------------------------------------ helpers

const id = (o) => `${o.kind}/${o.metadata?.name}`;
const labelsOf = (o) => o.metadata?.labels ?? {};
const isWorkload = (o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind);
const isLongRunning = (o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind);
const isEmporium = (o) => labelsOf(o)['app.kubernetes.io/name'] === 'emporium';
// The pg_dump CronJob and the restore template (components/pg-dump): the
// PostgreSQL image, not Emporium's, with flows of their own.
const isBackup = (o) => labelsOf(o)['app.kubernetes.io/name'] === 'emporium-backup';
const componentOf = (o) => labelsOf(o)['app.kubernetes.io/component'];

function podTemplate(w) {
  return w.kind === 'CronJob' ? w.spec.jobTemplate.spec.template : w.spec.template;
}
function podSpec(w) {
  return podTemplate(w).spec;
}
function podLabels(w) {
  return podTemplate(w).metadata?.labels ?? {};
}
function containersOf(w) {
  const spec = podSpec(w);
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}
// A Secret that an ExternalSecret creates (spec.target.name) counts as there:
// its keys are the ExternalSecret's data[].secretKey.
function find(objects, kind, name) {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found || kind !== 'Secret') {
    return found;
  }
  return objects.find((o) => o.kind === 'ExternalSecret' && (o.spec?.target?.name ?? o.metadata?.name) === name);
}

function selectorMatches(selector, labels) {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) {
    if (labels[k] !== v) {
      return false;
    }
  }
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && e.values.includes(value))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(value)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
const selectorIsEmpty = (s) =>
  !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);

// Parses a `kubectl apply -l` selector of the form `key in (a,b,c)`.
function inSelector(values) {
  return { matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values }] };
}

function durationSeconds(text) {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text ?? '');
  assert.ok(m, `not a duration: ${text}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}

function secretData(secret) {
  if (secret.kind === 'ExternalSecret') {
    return Object.fromEntries((secret.spec.data ?? []).map((d) => [d.secretKey, '']));
  }
  const out = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  return { ...out, ...(secret.stringData ?? {}) };
}

// Every EMPORIUM_* variable the binary accepts, from `emporium serve --help`:
// each setting's name, its _FILE form, and EMPORIUM_CONFIG.
let knownKeys = null;
function emporiumKeys() {
  if (knownKeys) {
    return knownKeys;
  }
  const run = spawnSync(binary, ['serve', '--help'], { env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
  assert.ifError(run.error && new Error(`cannot run ${binary} serve --help: ${run.error.message}`));
  assert.equal(run.status, 0, `${binary} serve --help exited with ${run.status}:\n${run.stderr}`);
  const names = [...run.stdout.matchAll(/\[env (EMPORIUM_[A-Z0-9_]+)/g)].map((m) => m[1]);
  assert.ok(names.length > 10, `no [env EMPORIUM_...] entries in ${binary} serve --help:\n${run.stdout}`);
  knownKeys = new Set(names);
  for (const n of names) {
    if (n !== 'EMPORIUM_CONFIG') {
      knownKeys.add(`${n}_FILE`);
    }
  }
  return knownKeys;
}

// The environment without EMPORIUM_* variables (the binary refuses unknown ones).
function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EMPORIUM_')));
  return { ...env, ...extra };
}

// ------------------------------------------------------ model validation

const require = createRequire(import.meta.url);

function modelSpecifier(apiVersion, kind) {
  if (apiVersion.startsWith('gateway.networking.k8s.io/')) {
    return `@kubernetes-models/gateway-api/${apiVersion}/${kind}`;
  }
  if (apiVersion.startsWith('monitoring.coreos.com/')) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  if (apiVersion.startsWith('external-secrets.io/')) {
    return `@kubernetes-models/external-secrets/${apiVersion}/${kind}`;
  }
  if (apiVersion.startsWith('argoproj.io/')) {
    return `@kubernetes-models/argo-cd/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

async function modelClass(apiVersion, kind) {
  const spec = modelSpecifier(apiVersion, kind);
  let mod;
  try {
    mod = await import(spec);
  } catch (e) {
    assert.fail(`no model for ${apiVersion} ${kind} (${spec}): ${e.message}`);
  }
  assert.ok(typeof mod[kind] === 'function', `${spec} exports no ${kind}`);
  return mod[kind];
}

// The models' TypeScript declarations list every field of every type; they are
// read here to find fields a model's validate() lets through (it ignores
// unknown ones): a misspelled probe or pod field is an error, not a no-op.
const dtsCache = new Map();

function tokenize(text) {
  const src = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  const tokens = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_$][\w$]*)|(-?\d+(?:\.\d+)?)|(\S))/gy;
  let m;
  while ((m = re.exec(src)) && m[0].length > 0) {
    if (m[1] !== undefined) tokens.push({ t: 'str', v: m[1].slice(1, -1) });
    else if (m[2] !== undefined) tokens.push({ t: 'id', v: m[2] });
    else if (m[3] !== undefined) tokens.push({ t: 'num', v: m[3] });
    else if (m[4] !== undefined) tokens.push({ t: 'p', v: m[4] });
  }
  return tokens;
}

class TypeParser {
  constructor(tokens, i) {
    this.tokens = tokens;
    this.i = i;
  }
  peek(v) {
    const t = this.tokens[this.i];
    return t && (v === undefined || t.v === v) ? t : null;
  }
  take(v) {
    const t = this.tokens[this.i];
    if (!t || (v !== undefined && t.v !== v)) {
      throw new Error(`expected ${v} at token ${this.i}, found ${t?.v}`);
    }
    this.i += 1;
    return t;
  }
  type() {
    this.peek('|') && this.take('|');
    const members = [this.postfix()];
    while (this.peek('|')) {
      this.take('|');
      members.push(this.postfix());
    }
    return members.length === 1 ? members[0] : { kind: 'union', members };
  }
  postfix() {
    let t = this.primary();
    while (this.peek('[')) {
      this.take('[');
      if (this.peek(']')) {
        this.take(']');
        t = { kind: 'array', of: t };
      } else {
        this.type();
        this.take(']');
        t = { kind: 'leaf' };
      }
    }
    return t;
  }
  primary() {
    const t = this.take();
    if (t.v === '{' && t.t === 'p') {
      return this.objectBody();
    }
    if (t.v === '(' && t.t === 'p') {
      const inner = this.type();
      this.take(')');
      return inner;
    }
    if (t.t === 'id') {
      if (this.peek('<')) {
        this.take('<');
        const args = [this.type()];
        while (this.peek(',')) {
          this.take(',');
          args.push(this.type());
        }
        this.take('>');
        if (t.v === 'Array' || t.v === 'ReadonlyArray') return { kind: 'array', of: args[0] };
        if (t.v === 'Record') return { kind: 'object', props: new Map(), index: args[1] };
        return { kind: 'leaf' };
      }
      if (['string', 'number', 'boolean', 'any', 'unknown', 'null', 'undefined', 'object', 'true', 'false'].includes(t.v)) {
        return { kind: 'leaf' };
      }
      return { kind: 'ref', name: t.v };
    }
    return { kind: 'leaf' };
  }
  // After '{': members up to the matching '}'.
  objectBody() {
    const props = new Map();
    let index = null;
    while (!this.peek('}')) {
      if (this.peek('[')) {
        this.take('[');
        this.take();
        this.take(':');
        this.type();
        this.take(']');
        this.peek('?') && this.take('?');
        this.take(':');
        index = this.type();
      } else {
        const name = this.take();
        this.peek('?') && this.take('?');
        this.take(':');
        props.set(name.v, this.type());
      }
      while (this.peek(';') || this.peek(',')) this.take();
    }
    this.take('}');
    return { kind: 'object', props, index };
  }
}

// One declaration file: its imports and its main type (the first exported
// interface, or type alias).
function loadDts(file) {
  if (dtsCache.has(file)) {
    return dtsCache.get(file);
  }
  const text = readFileSync(file, 'utf8');
  const imports = new Map();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const part of m[1].split(',')) {
      const [orig, alias] = part.trim().split(/\s+as\s+/);
      if (orig) imports.set((alias ?? orig).trim(), m[2]);
    }
  }
  const entry = { file, imports, main: null, extendsTypeMeta: false };
  dtsCache.set(file, entry);
  const tokens = tokenize(text);
  for (let i = 0; i < tokens.length - 2; i += 1) {
    if (tokens[i].v !== 'export') continue;
    let j = i + 1;
    if (tokens[j].v === 'declare') j += 1;
    if (tokens[j].v === 'interface') {
      j += 2;
      while (tokens[j].v !== '{') {
        if (tokens[j].v === 'TypeMeta') entry.extendsTypeMeta = true;
        j += 1;
      }
      entry.main = new TypeParser(tokens, j + 1).objectBody();
      break;
    }
    if (tokens[j].v === 'type') {
      const p = new TypeParser(tokens, j + 3);
      entry.main = p.type();
      break;
    }
  }
  entry.main ??= { kind: 'leaf' };
  return entry;
}

function resolveImport(specifier, fromFile) {
  if (specifier.startsWith('.')) {
    return path.resolve(path.dirname(fromFile), `${specifier}.d.ts`);
  }
  const js = createRequire(fromFile).resolve(specifier);
  return js.replace(/\.(?:c|m)?js$/, '.d.ts');
}

function deref(type, file) {
  let t = type;
  let f = file;
  for (let n = 0; t.kind === 'ref' && n < 20; n += 1) {
    const entry = loadDts(f);
    const spec = entry.imports.get(t.name);
    if (!spec) return { type: { kind: 'leaf' }, file: f };
    f = resolveImport(spec, f);
    t = loadDts(f).main;
  }
  return { type: t, file: f };
}

// Paths (a.b[0].c) of fields that the type does not declare.
function unknownFields(value, type, file, where, out) {
  const { type: t, file: f } = deref(type, file);
  if (value === null || value === undefined) return out;
  if (t.kind === 'union') {
    const objects = t.members.map((m) => deref(m, f)).filter((d) => d.type.kind === 'object');
    if (objects.length > 0 && typeof value === 'object' && !Array.isArray(value)) {
      const merged = { kind: 'object', props: new Map(), index: null };
      for (const d of objects) {
        for (const [k, v] of d.type.props) merged.props.set(k, { ...v, file: d.file });
        merged.index ??= d.type.index;
      }
      return unknownFieldsObject(value, merged, f, where, out);
    }
    return out;
  }
  if (t.kind === 'array') {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, t.of, f, `${where}[${i}]`, out));
    return out;
  }
  if (t.kind === 'object' && typeof value === 'object' && !Array.isArray(value)) {
    return unknownFieldsObject(value, t, f, where, out);
  }
  return out;
}

function unknownFieldsObject(value, t, f, where, out) {
  for (const [k, v] of Object.entries(value)) {
    const field = t.props.get(k);
    const path_ = where ? `${where}.${k}` : k;
    if (field) {
      unknownFields(v, field, field.file ?? f, path_, out);
    } else if (t.index) {
      unknownFields(v, t.index, f, path_, out);
    } else {
      out.push(path_);
    }
  }
  return out;
}

function strictCheck(obj) {
  const spec = modelSpecifier(obj.apiVersion, obj.kind);
  const file = require.resolve(spec).replace(/\.(?:c|m)?js$/, '.d.ts');
  const entry = loadDts(file);
  const main = entry.main;
  if (entry.extendsTypeMeta) {
    main.props.set('apiVersion', { kind: 'leaf' });
    main.props.set('kind', { kind: 'leaf' });
  }
  return unknownFields(obj, main, file, '', []);
}

// ------------------------------------------------------- network policies

function ipToInt(ip) {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}
function inCidr(ip, cidr) {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (base.includes(':')) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipToInt(ip) & mask) === (ipToInt(base) & mask);
}
function addressIn(cidr, offset) {
  const [base] = cidr.split('/');
  const n = (ipToInt(base) + offset) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

const INTERNET = { kind: 'ip', name: 'internet', ip: '203.0.113.10' };
const KUBE_DNS = {
  kind: 'pod',
  name: 'kube-system/kube-dns',
  namespace: 'kube-system',
  nsLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
  labels: { 'k8s-app': 'kube-dns' },
  ports: [
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
    { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
  ],
};

// One pod per workload, as the policies see it.
function podsOf(objects) {
  const ns = find(objects, 'Namespace', NAMESPACE);
  const nsLabels = { ...(ns?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': NAMESPACE };
  return objects.filter(isWorkload).map((w) => ({
    kind: 'pod',
    name: id(w),
    workload: w,
    namespace: w.metadata.namespace,
    nsLabels,
    labels: podLabels(w),
    ports: (podSpec(w).containers ?? []).flatMap((c) =>
      (c.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' })),
    ),
  }));
}

function policyTypes(p) {
  return p.spec.policyTypes ?? ['Ingress', ...(p.spec.egress ? ['Egress'] : [])];
}
function policySelects(p, pod) {
  return pod.kind === 'pod' && p.metadata.namespace === pod.namespace && selectorMatches(p.spec.podSelector, pod.labels);
}
function peerMatches(peer, policyNamespace, ep) {
  if (peer.ipBlock) {
    return (
      ep.kind === 'ip' &&
      inCidr(ep.ip, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((c) => inCidr(ep.ip, c))
    );
  }
  if (ep.kind !== 'pod') return false;
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, ep.nsLabels)
    : ep.namespace === policyNamespace;
  return nsOk && (!peer.podSelector || selectorMatches(peer.podSelector, ep.labels));
}
function portMatches(rulePorts, port, protocol, dest) {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') return p.endPort ? port >= p.port && port <= p.endPort : port === p.port;
    return dest.kind === 'pod' && dest.ports.some((cp) => cp.name === p.port && cp.containerPort === port && cp.protocol === protocol);
  });
}
function flowAllowed(policies, src, dst, port, protocol = 'TCP') {
  if (src.kind === 'pod') {
    const egress = policies.filter((p) => policySelects(p, src) && policyTypes(p).includes('Egress'));
    const ok =
      egress.length === 0 ||
      egress.some((p) =>
        (p.spec.egress ?? []).some(
          (r) =>
            (!r.to || r.to.length === 0 || r.to.some((peer) => peerMatches(peer, p.metadata.namespace, dst))) &&
            portMatches(r.ports, port, protocol, dst),
        ),
      );
    if (!ok) return false;
  }
  if (dst.kind === 'pod' && dst.namespace === NAMESPACE) {
    const ingress = policies.filter((p) => policySelects(p, dst) && policyTypes(p).includes('Ingress'));
    return (
      ingress.length === 0 ||
      ingress.some((p) =>
        (p.spec.ingress ?? []).some(
          (r) =>
            (!r.from || r.from.length === 0 || r.from.some((peer) => peerMatches(peer, p.metadata.namespace, src))) &&
            portMatches(r.ports, port, protocol, dst),
        ),
      )
    );
  }
  return true;
}

// The VPC range of the eks overlay: the one CIDR its egress rules name.
function vpcCidr(objects) {
  const cidrs = new Set();
  for (const p of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    for (const r of p.spec.egress ?? []) {
      for (const peer of r.to ?? []) {
        if (peer.ipBlock) cidrs.add(peer.ipBlock.cidr);
      }
    }
  }
  return [...cidrs];
}

// ------------------------------------------------------------ secret scan

// An interpolation (Terraform's ${...}) names where a value comes from; it is
// not a value.
const PLACEHOLDER = /change-me|^<[^>]*>$|^$|^\$\{[^}]*\}$/i;
// In HCL an unquoted value is an expression (module.db.password, string),
// never a literal secret.
const HCL_EXPRESSION = /^\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*[^"\s]/;
// Where a committed file could hold a real secret.
function secretFindings(file, text) {
  const findings = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const at = `${file}:${i + 1}`;
    if (/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/.test(line)) findings.push(`${at}: an AWS access key id`);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(line)) findings.push(`${at}: a private key`);
    if (/\beyJ[\w-]{10,}\.eyJ[\w-]{10,}\./.test(line)) findings.push(`${at}: a JSON Web Token`);
    for (const m of line.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/([^:@\s/]*):([^@\s/]*)@/gi)) {
      if (!PLACEHOLDER.test(m[2])) findings.push(`${at}: a password in a URL (${m[1]}:…@)`);
    }
    const kv = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*"?([^"#]*?)"?\s*$/.exec(line);
    const hclExpression = /\.(tf|tfvars)$/.test(file) && HCL_EXPRESSION.test(line);
    if (
      kv &&
      !hclExpression &&
      /(SECRET|PASSWORD|PASSWD|PASS|TOKEN|API_?KEY|PRIVATE_?KEY)$/i.test(kv[1]) &&
      !/^(?:true|false|null|~|\d+)$/.test(kv[2]) &&
      !PLACEHOLDER.test(kv[2])
    ) {
      findings.push(`${at}: ${kv[1]} is not a placeholder`);
    }
    // Hex keys (openssl rand -hex) and base64 keys: 32+ characters of one
    // alphabet with many distinct characters (not a word, a path or 000…).
    for (const m of line.matchAll(/[A-Za-z0-9+/]{32,}={0,2}/g)) {
      const s = m[0];
      const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((c) => c.test(s)).length;
      const hex = /^[0-9a-f]+$/i.test(s);
      if ((hex || classes === 3) && !s.includes('/') && new Set(s).size >= (hex ? 10 : 16)) {
        findings.push(`${at}: a long random-looking string (${s.slice(0, 6)}…)`);
      }
    }
  });
  if (/\.ya?ml$/.test(file)) {
    for (const doc of YAML.parseAllDocuments(text)) {
      const o = doc.toJS();
      if (o?.kind === 'Secret' && (o.data || o.stringData)) {
        findings.push(`${file}: a Secret with data (generate it from a git-ignored env file instead)`);
      }
    }
  }
  return findings;
}

// ================================================================== tests

test('the unknown-field check finds misspelled fields in pod templates, containers and probes', () => {
  const base = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', labels: { a: 'b' } },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: {
          enableServiceLinks: false,
          containers: [
            {
              name: 'c',
              image: 'i:1',
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              resources: { limits: { cpu: '1' } },
              securityContext: { capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
  assert.deepEqual(strictCheck(base), [], 'a correct Deployment has no unknown fields');
  const broken = structuredClone(base);
  broken.spec.template.spec.enableServiceLink = false;
  broken.spec.template.metadata.lables = {};
  broken.spec.template.spec.containers[0].livenessProbe.httpGet.pathh = '/x';
  broken.spec.template.spec.containers[0].readinesProbe = {};
  broken.spec.template.spec.containers[0].securityContext.capabilities.dropp = [];
  broken.spec.strategy = { rollingUpdate: { maxUnavaliable: 0 } };
  assert.deepEqual(strictCheck(broken).sort(), [
    'spec.strategy.rollingUpdate.maxUnavaliable',
    'spec.template.metadata.lables',
    'spec.template.spec.containers[0].livenessProbe.httpGet.pathh',
    'spec.template.spec.containers[0].readinesProbe',
    'spec.template.spec.containers[0].securityContext.capabilities.dropp',
    'spec.template.spec.enableServiceLink',
  ]);
  const route = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r' },
    spec: { parentRefs: [{ name: 'g', sectionNam: 'x' }], rules: [{ backendRef: [] }] },
  };
  assert.deepEqual(strictCheck(route).sort(), ['spec.parentRefs[0].sectionNam', 'spec.rules[0].backendRef']);
});

test('the restore tools (deploy/k8s/tools) validate, meet the pod rules and mount what the local overlay creates', async () => {
  const local = render('local');
  const errors = [];
  const toolsDir = path.join(k8sDir, 'tools');
  for (const file of readdirSync(toolsDir).filter((f) => f.endsWith('.yaml'))) {
    const pod = YAML.parse(readFileSync(path.join(toolsDir, file), 'utf8'));
    const at = `tools/${file}`;
    const Model = await modelClass(pod.apiVersion, pod.kind);
    try {
      new Model(pod).validate();
    } catch (e) {
      errors.push(`${at}: ${e.message}`);
    }
    for (const field of strictCheck(pod)) errors.push(`${at}: unknown field ${field}`);
    if (pod.metadata.namespace !== NAMESPACE) errors.push(`${at}: not in ${NAMESPACE}`);
    const spec = pod.spec;
    if (spec.automountServiceAccountToken !== false || spec.enableServiceLinks !== false) errors.push(`${at}: token or service links`);
    for (const c of spec.containers) {
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false || !(sc.capabilities?.drop ?? []).includes('ALL')) errors.push(`${at}: ${c.name} may escalate`);
      if ((sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot) !== true) errors.push(`${at}: ${c.name} may run as root`);
      if (!c.resources?.limits?.cpu || !c.resources?.limits?.memory) errors.push(`${at}: ${c.name} has no limits`);
    }
    for (const v of spec.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const fromTemplate = local
        .filter((o) => o.kind === 'StatefulSet')
        .some((o) => (o.spec.volumeClaimTemplates ?? []).some((t) => claim === `${t.metadata.name}-${o.metadata.name}-0`));
      if (!fromTemplate && !find(local, 'PersistentVolumeClaim', claim)) errors.push(`${at}: claim ${claim} is not one the local overlay creates`);
    }
  }
  assert.deepEqual(errors, []);
});

test('the committed files under deploy/ hold no secret', () => {
  const run = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', 'deploy'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, `git ls-files failed: ${run.stderr}`);
  const files = run.stdout.split('\n').filter(Boolean);
  assert.ok(files.some((f) => f.startsWith('deploy/k8s/')), 'git sees no file under deploy/k8s');
  const findings = [];
  for (const file of files) {
    if (/(^|\/)(secrets|stores)\.env$/.test(file)) {
      findings.push(`${file}: a secrets file that git would commit (it must be git-ignored)`);
      continue;
    }
    findings.push(...secretFindings(file, readFileSync(path.join(repoRoot, file), 'utf8')));
  }
  assert.deepEqual(findings, [], 'possible secrets in files git would commit');
});

test('every env file an overlay reads is git-ignored and has a committed example', () => {
  const problems = [];
  for (const file of walkFiles(k8sDir).filter((f) => path.basename(f) === 'kustomization.yaml')) {
    const k = YAML.parse(readFileSync(file, 'utf8')) ?? {};
    for (const gen of [...(k.secretGenerator ?? []), ...(k.configMapGenerator ?? [])]) {
      for (const env of [...(gen.envs ?? []), ...(gen.env ? [gen.env] : [])]) {
        const rel = path.relative(repoRoot, path.join(path.dirname(file), env));
        if (!existsSync(path.join(repoRoot, `${rel}.example`))) problems.push(`${rel}.example is missing`);
        if ((k.secretGenerator ?? []).includes(gen)) {
          const ignored = spawnSync('git', ['check-ignore', '-q', '--no-index', rel], { cwd: repoRoot });
          if (ignored.status !== 0) problems.push(`${rel} is not git-ignored`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

for (const [name, variant] of Object.entries(VARIANTS)) {
  describe(`overlay ${name}`, () => {
    test('renders with kubectl kustomize', () => {
      const objects = render(name);
      const kinds = {};
      for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
      console.log(`${name}: ${objects.length} objects ${JSON.stringify(kinds)}`);
      const duplicates = objects.map(id).filter((x, i, all) => all.indexOf(x) !== i);
      assert.deepEqual(duplicates, [], 'objects rendered twice');
    });

    test('every object validates against kubernetes-models', async () => {
      const errors = [];
      for (const o of render(name)) {
        const Model = await modelClass(o.apiVersion, o.kind);
        // kustomize wraps long base64 values over lines, as the API server
        // accepts (Go's decoder skips newlines); the model's "byte" format does not.
        const copy = o.kind === 'Secret' && o.data
          ? { ...o, data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, v.replace(/\s+/g, '')])) }
          : o;
        try {
          new Model(copy).validate();
        } catch (e) {
          errors.push(`${id(o)}: ${e.message}`);
        }
      }
      assert.deepEqual(errors, []);
    });

    test('no object has an unknown or misspelled field', () => {
      const errors = [];
      for (const o of render(name)) {
        for (const field of strictCheck(o)) errors.push(`${id(o)}: unknown field ${field}`);
      }
      assert.deepEqual(errors, []);
    });

    test('every object is in the namespace and carries the app.kubernetes.io labels', () => {
      const errors = [];
      for (const o of render(name)) {
        if (o.kind !== 'Namespace' && o.metadata.namespace !== NAMESPACE) errors.push(`${id(o)}: namespace ${o.metadata.namespace}`);
        const sets = [['', labelsOf(o)]];
        if (isWorkload(o)) sets.push(['pod template ', podLabels(o)]);
        for (const [what, labels] of sets) {
          for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/part-of', 'app.kubernetes.io/component']) {
            if (!labels[key]) errors.push(`${id(o)}: ${what}label ${key} missing`);
          }
        }
      }
      assert.deepEqual(errors, []);
    });

    test('workloads: probes, resources, security context, pinned images, no service links or tokens', () => {
      const errors = [];
      for (const w of render(name).filter(isWorkload)) {
        const spec = podSpec(w);
        const where = id(w);
        if (spec.enableServiceLinks !== false) errors.push(`${where}: enableServiceLinks is not false`);
        if (spec.automountServiceAccountToken !== false) errors.push(`${where}: automountServiceAccountToken is not false`);
        if (spec.hostNetwork || spec.hostPID || spec.hostIPC) errors.push(`${where}: uses the host's namespaces`);
        if ((spec.volumes ?? []).some((v) => v.hostPath)) errors.push(`${where}: mounts a hostPath`);
        const pod = spec.securityContext ?? {};
        for (const c of containersOf(w)) {
          const at = `${where} container ${c.name}`;
          const sc = c.securityContext ?? {};
          const image = c.image ?? '';
          const last = image.split('/').pop();
          if (!image.includes('@sha256:') && !last.includes(':')) errors.push(`${at}: image ${image} has no tag`);
          if (/:latest$/.test(image)) errors.push(`${at}: image ${image} uses latest`);
          for (const k of ['requests', 'limits']) {
            for (const r of ['cpu', 'memory']) {
              if (!c.resources?.[k]?.[r]) errors.push(`${at}: no ${k}.${r}`);
            }
          }
          if (isLongRunning(w) && !(spec.initContainers ?? []).includes(c)) {
            for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
              if (!c[p]) errors.push(`${at}: no ${p}`);
            }
          }
          if (sc.allowPrivilegeEscalation !== false) errors.push(`${at}: allowPrivilegeEscalation is not false`);
          if (sc.privileged) errors.push(`${at}: privileged`);
          if (!(sc.capabilities?.drop ?? []).includes('ALL')) errors.push(`${at}: capabilities do not drop ALL`);
          if ((sc.capabilities?.add ?? []).length) errors.push(`${at}: adds capabilities`);
          if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) errors.push(`${at}: runAsNonRoot is not true`);
          if ((sc.runAsUser ?? pod.runAsUser) === 0) errors.push(`${at}: runs as root`);
          const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
          if (!['RuntimeDefault', 'Localhost'].includes(seccomp)) errors.push(`${at}: seccompProfile is ${seccomp}`);
          if (isEmporium(w)) {
            if (!variant.image.test(image)) errors.push(`${at}: image ${image} does not match ${variant.image}`);
            if (sc.readOnlyRootFilesystem !== true) errors.push(`${at}: readOnlyRootFilesystem is not true`);
            for (const k of ['runAsUser', 'runAsGroup']) {
              if (sc[k] !== EMPORIUM_USER || pod[k] !== EMPORIUM_USER) errors.push(`${at}: ${k} is not ${EMPORIUM_USER} (pod and container)`);
            }
            // The image has no shell: an exec probe or hook could never run.
            const execs = ['livenessProbe', 'readinessProbe', 'startupProbe'].filter((p) => c[p]?.exec);
            if (c.lifecycle?.preStop?.exec || c.lifecycle?.postStart?.exec) execs.push('lifecycle');
            if (execs.length) errors.push(`${at}: exec in ${execs.join(', ')} (the image has no shell)`);
            const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
            const emptyDirs = new Set((spec.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
            if (!emptyDirs.has(mounts.get('/tmp'))) errors.push(`${at}: no emptyDir at /tmp`);
            if (!emptyDirs.has(mounts.get('/data'))) errors.push(`${at}: no emptyDir at /data (EMPORIUM_DATA_DIR)`);
          }
        }
        if (isEmporium(w)) {
          const sa = find(render(name), 'ServiceAccount', spec.serviceAccountName);
          if (spec.serviceAccountName !== 'emporium' || !sa) errors.push(`${where}: not on ServiceAccount emporium`);
          else if (sa.automountServiceAccountToken !== false) errors.push(`ServiceAccount ${sa.metadata.name}: automountServiceAccountToken is not false`);
        }
      }
      assert.deepEqual(errors, []);
    });

    test('service Deployments: serve one service on :8080, probes, config, rollout, spread, shutdown', () => {
      const objects = render(name);
      const errors = [];
      const deployments = objects.filter((o) => o.kind === 'Deployment' && isEmporium(o));
      assert.deepEqual(deployments.map(componentOf).sort(), [...SERVICES].sort(), 'one Deployment per service');
      for (const d of deployments) {
        const at = id(d);
        const component = componentOf(d);
        const spec = podSpec(d);
        assert.equal(spec.containers.length, 1, `${at}: one container`);
        const c = spec.containers[0];
        if (JSON.stringify(c.args) !== JSON.stringify(['serve', `--services=${component}`])) {
          errors.push(`${at}: args ${JSON.stringify(c.args)}, expected ["serve","--services=${component}"]`);
        }
        if (c.command) errors.push(`${at}: sets command (the image's entrypoint is emporium)`);
        const http = (c.ports ?? []).find((p) => p.name === 'http');
        if (http?.containerPort !== 8080) errors.push(`${at}: no containerPort 8080 named http`);
        const admin = (c.ports ?? []).find((p) => p.name === 'admin');
        if (admin?.containerPort !== 9090) errors.push(`${at}: no containerPort 9090 named admin (admin_listen, /metrics)`);
        const probe = (p, route) => {
          const g = c[p]?.httpGet;
          if (!g || g.path !== route || !['http', 8080].includes(g.port)) errors.push(`${at}: ${p} is not httpGet ${route} on http`);
        };
        probe('livenessProbe', '/healthz');
        probe('readinessProbe', '/readyz');
        probe('startupProbe', '/healthz');
        const cmName = c.envFrom?.find((e) => e.configMapRef)?.configMapRef.name;
        const secretName = c.envFrom?.find((e) => e.secretRef)?.secretRef.name;
        const cm = find(objects, 'ConfigMap', cmName);
        if (!cm) errors.push(`${at}: envFrom has no ConfigMap that exists (${cmName})`);
        if (!find(objects, 'Secret', secretName)) errors.push(`${at}: envFrom has no Secret that exists (${secretName})`);
        const ru = d.spec.strategy?.rollingUpdate;
        if (d.spec.strategy?.type !== 'RollingUpdate' || ru?.maxUnavailable !== 0 || ru?.maxSurge !== 1) {
          errors.push(`${at}: strategy is not RollingUpdate with maxUnavailable 0, maxSurge 1`);
        }
        if (d.spec.replicas !== undefined) errors.push(`${at}: sets replicas (the HorizontalPodAutoscaler owns them)`);
        for (const key of ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']) {
          const tsc = (spec.topologySpreadConstraints ?? []).find((t) => t.topologyKey === key);
          if (!tsc) errors.push(`${at}: no topologySpreadConstraint over ${key}`);
          else if (!selectorMatches(tsc.labelSelector, podLabels(d)) || selectorIsEmpty(tsc.labelSelector)) {
            errors.push(`${at}: the spread over ${key} does not select the Deployment's pods`);
          }
        }
        if (cm) {
          const listen = cm.data.EMPORIUM_LISTEN ?? '0.0.0.0:8080';
          if (!listen.endsWith(':8080')) errors.push(`${cmName}: EMPORIUM_LISTEN ${listen} is not port 8080`);
          // The default 127.0.0.1:9090 is out of Prometheus's reach.
          if (cm.data.EMPORIUM_ADMIN_LISTEN !== '0.0.0.0:9090') {
            errors.push(`${cmName}: EMPORIUM_ADMIN_LISTEN ${cm.data.EMPORIUM_ADMIN_LISTEN} is not 0.0.0.0:9090`);
          }
          if (cm.data.EMPORIUM_DATA_DIR !== '/data') errors.push(`${cmName}: EMPORIUM_DATA_DIR is not /data (the emptyDir)`);
          const delay = durationSeconds(cm.data.EMPORIUM_SHUTDOWN_DELAY ?? '0s');
          const drain = durationSeconds(cm.data.EMPORIUM_DRAIN_TIMEOUT ?? '20s');
          if (delay < 5) errors.push(`${cmName}: EMPORIUM_SHUTDOWN_DELAY ${delay}s is under 5s`);
          if (!(spec.terminationGracePeriodSeconds > delay + drain)) {
            errors.push(`${at}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} is not above shutdown_delay + drain_timeout (${delay + drain}s)`);
          }
          if (cm.data.EMPORIUM_MODE !== 'production') errors.push(`${cmName}: EMPORIUM_MODE is not production`);
          for (const s of ['product', 'user', 'cart', 'order', 'notification']) {
            const url = cm.data[`EMPORIUM_${s.toUpperCase()}_URL`];
            const svc = find(objects, 'Service', s);
            if (url !== `http://${s}:8080` || !svc) errors.push(`${cmName}: EMPORIUM_${s.toUpperCase()}_URL ${url} is not the Service ${s} on 8080`);
          }
        }
      }
      assert.deepEqual(errors, []);
    });

    test('the migration Job runs `emporium migrate` for every service', () => {
      const objects = render(name);
      const jobs = objects.filter((o) => o.kind === 'Job' && isEmporium(o));
      assert.equal(jobs.length, 1, 'one migration Job');
      const [job] = jobs;
      assert.equal(componentOf(job), 'migration');
      const spec = podSpec(job);
      assert.equal(spec.containers.length, 1);
      const c = spec.containers[0];
      assert.deepEqual(c.args, ['migrate'], 'args ["migrate"]: services defaults to all, so every schema is migrated');
      assert.ok(['Never', 'OnFailure'].includes(spec.restartPolicy), 'restartPolicy Never or OnFailure');
      assert.ok(Number.isInteger(job.spec.backoffLimit), 'backoffLimit set');
      assert.ok(job.spec.activeDeadlineSeconds > 0, 'activeDeadlineSeconds set');
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
      const db = env.EMPORIUM_DATABASE_URL?.valueFrom?.secretKeyRef;
      const secret = db && find(objects, 'Secret', db.name);
      assert.ok(secret && Object.hasOwn(secretData(secret), db.key), 'EMPORIUM_DATABASE_URL from the Secret');
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref) {
          assert.ok(Object.hasOwn(find(objects, 'ConfigMap', ref.name)?.data ?? {}, ref.key), `${e.name}: ${ref.name}/${ref.key} exists`);
        }
      }
    });

    test('the pre-rollout apply selects the Job and everything it needs, and no service', () => {
      const objects = render(name);
      const selector = inSelector(variant.preRollout);
      const selected = objects.filter((o) => selectorMatches(selector, labelsOf(o)));
      const has = (kind, n) => Boolean(find(selected, kind, n));
      const job = selected.find((o) => o.kind === 'Job');
      assert.ok(job, `-l 'app.kubernetes.io/component in (${variant.preRollout})' selects the migration Job`);
      assert.ok(has('Namespace', NAMESPACE), 'selects the Namespace');
      const spec = podSpec(job);
      assert.ok(has('ServiceAccount', spec.serviceAccountName), 'selects the ServiceAccount');
      for (const c of spec.containers) {
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef?.name;
          const m = e.valueFrom?.configMapKeyRef?.name;
          if (s) assert.ok(has('Secret', s), `selects Secret ${s}`);
          if (m) assert.ok(has('ConfigMap', m), `selects ConfigMap ${m}`);
        }
        for (const e of c.envFrom ?? []) {
          if (e.secretRef) assert.ok(has('Secret', e.secretRef.name), `selects Secret ${e.secretRef.name}`);
          if (e.configMapRef) assert.ok(has('ConfigMap', e.configMapRef.name), `selects ConfigMap ${e.configMapRef.name}`);
        }
      }
      assert.deepEqual(
        selected.filter((o) => o.kind === 'Deployment' && isEmporium(o)).map(id),
        [],
        'selects no service Deployment',
      );
      const policies = selected.filter((o) => o.kind === 'NetworkPolicy');
      assert.ok(policies.some((p) => selectorIsEmpty(p.spec.podSelector) && policyTypes(p).length === 2), 'selects the default deny');
      const pods = podsOf(objects);
      const jobPod = pods.find((p) => p.workload === job);
      const store = variant.stores.postgresql;
      let db;
      if (store.pod) {
        db = pods.find((p) => p.labels['app.kubernetes.io/name'] === store.pod);
        assert.ok(db && selected.includes(db.workload), `selects the ${store.pod} workload`);
        assert.ok(selected.some((o) => o.kind === 'Service' && selectorMatches({ matchLabels: o.spec.selector }, db.labels)), `selects the ${store.pod} Service`);
      } else {
        db = { kind: 'ip', name: 'vpc', ip: addressIn(vpcCidr(objects)[0], 10) };
      }
      assert.ok(flowAllowed(policies, jobPod, db, store.ports[0]), 'the selected policies let the Job reach PostgreSQL');
      assert.ok(flowAllowed(policies, jobPod, KUBE_DNS, 53, 'UDP'), 'the selected policies let the Job resolve names');
    });

    test('every EMPORIUM_* key is a setting that emporium knows', () => {
      const objects = render(name);
      const known = emporiumKeys();
      const errors = [];
      const check = (where, key) => {
        if (key.startsWith('EMPORIUM_') && !known.has(key)) errors.push(`${where}: ${key} is not an Emporium setting`);
      };
      for (const o of objects.filter((x) => ['ConfigMap', 'Secret', 'ExternalSecret'].includes(x.kind))) {
        const data = o.kind === 'ConfigMap' ? { ...(o.data ?? {}) } : secretData(o);
        for (const k of Object.keys(data)) check(id(o), k);
      }
      for (const w of objects.filter(isWorkload)) {
        for (const c of containersOf(w)) {
          for (const e of c.env ?? []) check(`${id(w)} container ${c.name}`, e.name);
          if (!isEmporium(w)) continue;
          // Everything an Emporium container takes in whole must be a setting.
          for (const e of c.envFrom ?? []) {
            const ref = e.configMapRef ?? e.secretRef;
            const src = find(objects, e.configMapRef ? 'ConfigMap' : 'Secret', ref.name);
            assert.ok(src, `${id(w)}: envFrom ${ref.name} exists`);
            if (e.prefix) errors.push(`${id(w)}: envFrom ${ref.name} has a prefix`);
            const data = src.kind === 'ConfigMap' ? src.data ?? {} : secretData(src);
            for (const k of Object.keys(data)) {
              if (!k.startsWith('EMPORIUM_')) errors.push(`${id(src)}: ${k} reaches ${id(w)} but is not an Emporium setting`);
            }
          }
        }
      }
      assert.deepEqual(errors, []);
    });

    test('emporium accepts the ConfigMap values and each workload\'s arguments', () => {
      const objects = render(name);
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'emporium-config-'));
      try {
        for (const w of objects.filter((o) => isWorkload(o) && isEmporium(o))) {
          const c = podSpec(w).containers[0];
          const env = {};
          for (const e of c.envFrom ?? []) {
            if (e.configMapRef) Object.assign(env, find(objects, 'ConfigMap', e.configMapRef.name).data);
          }
          for (const e of c.env ?? []) {
            if (e.value !== undefined) env[e.name] = e.value;
            const ref = e.valueFrom?.configMapKeyRef;
            if (ref) env[e.name] = find(objects, 'ConfigMap', ref.name).data[ref.key];
          }
          // `migrate` reads the same settings as `serve`, checks every value and
          // the services list, and needs nothing else on SQLite in a scratch dir.
          const args = [...c.args];
          args[0] = args[0] === 'serve' ? 'migrate' : args[0];
          const dir = path.join(scratch, w.metadata.name);
          mkdirSync(dir);
          const run = spawnSync(binary, [...args, `--data-dir=${dir}`], {
            env: cleanEnv(env),
            encoding: 'utf8',
            timeout: 60_000,
          });
          assert.ifError(run.error && new Error(`cannot run ${binary}: ${run.error.message}`));
          assert.equal(run.status, 0, `${id(w)}: emporium ${args.join(' ')} with its ConfigMap settings exited ${run.status}:\n${run.stderr}${run.stdout}`);
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });

    test('every Service selects one workload and targets a port it has', () => {
      const objects = render(name);
      const errors = [];
      for (const s of objects.filter((o) => o.kind === 'Service')) {
        const sel = { matchLabels: s.spec.selector ?? {} };
        const targets = objects.filter((o) => isWorkload(o) && !selectorIsEmpty(sel) && selectorMatches(sel, podLabels(o)));
        if (targets.length !== 1) {
          errors.push(`${id(s)}: selector ${JSON.stringify(s.spec.selector)} matches ${targets.length} workloads`);
          continue;
        }
        const ports = (podSpec(targets[0]).containers ?? []).flatMap((c) => c.ports ?? []);
        for (const p of s.spec.ports ?? []) {
          const t = p.targetPort ?? p.port;
          if (!ports.some((cp) => (typeof t === 'number' ? cp.containerPort === t : cp.name === t))) {
            errors.push(`${id(s)}: port ${p.name} targets ${t}, which ${id(targets[0])} does not expose`);
          }
        }
      }
      assert.deepEqual(errors, []);
    });

    test('every HorizontalPodAutoscaler and PodDisruptionBudget targets an existing workload', () => {
      const objects = render(name);
      const errors = [];
      for (const h of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
        const ref = h.spec.scaleTargetRef;
        if (!find(objects, ref.kind, ref.name)) errors.push(`${id(h)}: targets ${ref.kind}/${ref.name}, which does not exist`);
        if (h.apiVersion !== 'autoscaling/v2') errors.push(`${id(h)}: ${h.apiVersion}, not autoscaling/v2`);
        if (!(h.spec.metrics ?? []).some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) errors.push(`${id(h)}: no CPU metric`);
        if (!(h.spec.minReplicas >= variant.minReplicas)) errors.push(`${id(h)}: minReplicas ${h.spec.minReplicas} < ${variant.minReplicas}`);
        if (!(h.spec.maxReplicas >= h.spec.minReplicas)) errors.push(`${id(h)}: maxReplicas below minReplicas`);
      }
      for (const p of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
        if (selectorIsEmpty(p.spec.selector) || !objects.some((o) => isLongRunning(o) && selectorMatches(p.spec.selector, podLabels(o)))) {
          errors.push(`${id(p)}: selects no workload`);
        }
      }
      for (const d of objects.filter((o) => o.kind === 'Deployment' && isEmporium(o))) {
        if (!objects.some((h) => h.kind === 'HorizontalPodAutoscaler' && h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === d.metadata.name)) {
          errors.push(`${id(d)}: no HorizontalPodAutoscaler`);
        }
        if (!objects.some((p) => p.kind === 'PodDisruptionBudget' && selectorMatches(p.spec.selector, podLabels(d)))) {
          errors.push(`${id(d)}: no PodDisruptionBudget`);
        }
      }
      assert.deepEqual(errors, []);
    });

    test('NetworkPolicies: default deny, narrow egress, exactly the flows Emporium needs', () => {
      const objects = render(name);
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      const errors = [];
      const deny = policies.filter(
        (p) => selectorIsEmpty(p.spec.podSelector) && policyTypes(p).includes('Ingress') && policyTypes(p).includes('Egress') &&
          !(p.spec.ingress ?? []).length && !(p.spec.egress ?? []).length,
      );
      if (deny.length === 0) errors.push('no default-deny policy (podSelector {}, Ingress and Egress, no rules)');
      const pods = podsOf(objects);
      for (const p of policies) {
        if (!selectorIsEmpty(p.spec.podSelector) && !pods.some((pod) => policySelects(p, pod))) errors.push(`${id(p)}: selects no pod`);
        for (const r of p.spec.egress ?? []) {
          if (!(r.to ?? []).length || !(r.ports ?? []).length) errors.push(`${id(p)}: an egress rule without both to and ports`);
          for (const peer of r.to ?? []) {
            if (peer.ipBlock && /\/0$/.test(peer.ipBlock.cidr)) errors.push(`${id(p)}: egress to ${peer.ipBlock.cidr}`);
          }
        }
        for (const r of [...(p.spec.egress ?? []).flatMap((x) => x.to ?? []), ...(p.spec.ingress ?? []).flatMap((x) => x.from ?? [])]) {
          if (r.podSelector && !r.namespaceSelector && !pods.some((pod) => selectorMatches(r.podSelector, pod.labels))) {
            errors.push(`${id(p)}: peer ${JSON.stringify(r.podSelector)} matches no pod`);
          }
        }
      }
      const vpc = vpcCidr(objects);
      const wantsVpc = Object.values(variant.stores).some((s) => s.vpc);
      if (wantsVpc && vpc.length !== 1) errors.push(`egress names ${vpc.length} CIDRs (${vpc}), expected the VPC's one`);
      if (!wantsVpc && vpc.length !== 0) errors.push(`egress names CIDRs (${vpc}) though every store is a pod`);
      const vpcHost = { kind: 'ip', name: 'an address in the VPC', ip: addressIn(vpc[0] ?? '10.0.0.0/16', 10) };

      const component = (pod) => (isEmporium(pod.workload) || isBackup(pod.workload) ? componentOf(pod.workload) : null);
      const storeOfPod = (pod) =>
        Object.entries(variant.stores).find(([, s]) => s.pod && pod.labels['app.kubernetes.io/name'] === s.pod)?.[0];
      const expected = (src, dst, port) => {
        const from = component(src);
        if (!from) return false;
        if (dst.kind === 'ip') {
          return dst === vpcHost && Object.entries(variant.stores).some(([store, s]) => s.vpc && s.ports.includes(port) && STORE_USERS[store].includes(from));
        }
        const to = component(dst);
        if (to) return port === 8080 && (CALLS[from] ?? []).includes(to);
        const store = storeOfPod(dst);
        return Boolean(store) && variant.stores[store].ports.includes(port) && STORE_USERS[store].includes(from);
      };
      const wrong = [];
      const probePorts = [5432, 6379, 5671, 5672, 465, 587, 25, 443, 8080];
      for (const src of pods) {
        for (const dst of pods) {
          for (const port of dst.ports) {
            const got = flowAllowed(policies, src, dst, port.containerPort, port.protocol);
            if (got !== expected(src, dst, port.containerPort)) {
              wrong.push(`${src.name} -> ${dst.name}:${port.containerPort} is ${got ? 'allowed' : 'denied'}`);
            }
          }
        }
        for (const dst of [vpcHost, INTERNET]) {
          for (const port of probePorts) {
            const got = flowAllowed(policies, src, dst, port);
            if (got !== expected(src, dst, port)) wrong.push(`${src.name} -> ${dst.name}:${port} is ${got ? 'allowed' : 'denied'}`);
          }
        }
        for (const protocol of ['UDP', 'TCP']) {
          if (!flowAllowed(policies, src, KUBE_DNS, 53, protocol)) wrong.push(`${src.name} -> kube-dns:53/${protocol} is denied`);
        }
      }
      // From outside the cluster (the load balancer), only the gateway.
      for (const dst of pods) {
        for (const port of dst.ports) {
          const got = flowAllowed(policies, INTERNET, dst, port.containerPort, port.protocol);
          const want = component(dst) === 'gateway' && port.containerPort === 8080;
          if (got !== want) wrong.push(`outside -> ${dst.name}:${port.containerPort} is ${got ? 'allowed' : 'denied'}`);
        }
      }
      errors.push(...wrong);
      assert.deepEqual(errors, []);
    });

    test('a nightly pg_dump of every schema, and a restore Job template that never runs by itself', () => {
      const objects = render(name);
      const dump = find(objects, 'CronJob', 'emporium-pg-dump');
      const restore = find(objects, 'CronJob', 'emporium-pg-restore');
      assert.ok(dump && restore, 'CronJobs emporium-pg-dump and emporium-pg-restore');
      assert.equal(dump.spec.concurrencyPolicy, 'Forbid', 'one dump at a time');
      assert.match(dump.spec.schedule, /^\S+ \S+ \S+ \S+ \S+$/, 'a cron schedule');
      assert.notEqual(dump.spec.suspend, true, 'the dump runs');
      assert.equal(restore.spec.suspend, true, 'the restore template is suspended: only `kubectl create job --from` runs it');
      assert.equal(restore.spec.jobTemplate.spec.backoffLimit, 0, 'a failed restore is not retried by itself');
      for (const cj of [dump, restore]) {
        const spec = podSpec(cj);
        const [c] = spec.containers;
        const script = (c.args ?? []).join('\n');
        const at = id(cj);
        assert.ok(componentOf(cj) === componentOf({ metadata: podTemplate(cj).metadata }), `${at}: pod labels match`);
        const url = (c.env ?? []).find((e) => e.name === 'PGURL')?.valueFrom?.secretKeyRef;
        const secret = url && find(objects, 'Secret', url.name);
        assert.ok(secret && Object.hasOwn(secretData(secret), url.key), `${at}: PGURL from a Secret key that exists`);
        const claim = (spec.volumes ?? []).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
        assert.ok(find(objects, 'PersistentVolumeClaim', claim), `${at}: its volume's claim ${claim} exists`);
        assert.match(script, /sha256sum/, `${at}: checksums`);
        if (cj === dump) {
          assert.match(script, /pg_dump .*-Fc/, 'custom format');
          for (const schema of ['product', '"user"', 'cart', '"order"', 'notification']) {
            assert.ok(script.includes(`-n ${schema}`) || script.includes(`-n '${schema}'`), `dumps schema ${schema}`);
          }
        } else {
          assert.match(script, /--single-transaction/, 'restores in one transaction');
          assert.match(script, /refusing to restore/, 'refuses a dump whose checksum does not match');
          assert.match(script, /outbox SET sent_at/, 'holds back events left unsent');
        }
      }
    });

    test('the public entry routes to the gateway Service', () => {
      const objects = render(name);
      const ingresses = objects.filter((o) => o.kind === 'Ingress');
      const routes = objects.filter((o) => o.kind === 'HTTPRoute');
      const gateway = find(objects, 'Service', 'gateway');
      assert.ok(gateway, 'Service gateway exists');
      const servicePort = (port) => gateway.spec.ports.some((p) => p.name === port || p.port === port);
      if (variant.edge === null) {
        assert.deepEqual([...ingresses, ...routes].map(id), [], 'no public entry (kubectl port-forward)');
        return;
      }
      if (variant.edge === 'httproute') {
        assert.deepEqual(ingresses.map(id), [], 'the component removes the Ingress');
        assert.equal(routes.length, 1, 'one HTTPRoute');
        const [route] = routes;
        assert.equal(route.apiVersion, 'gateway.networking.k8s.io/v1');
        assert.ok((route.spec.parentRefs ?? []).length > 0, 'parentRefs names a Gateway');
        const refs = (route.spec.rules ?? []).flatMap((r) => r.backendRefs ?? []);
        assert.ok(refs.length > 0, 'backendRefs');
        for (const ref of refs) {
          assert.equal(ref.name, 'gateway', 'backendRef is the gateway Service');
          assert.ok(servicePort(ref.port), `the gateway Service has port ${ref.port}`);
        }
        return;
      }
      assert.deepEqual(routes.map(id), [], 'no HTTPRoute without the component');
      assert.equal(ingresses.length, 1, 'one Ingress');
      const [ing] = ingresses;
      const a = ing.metadata.annotations ?? {};
      const p = 'alb.ingress.kubernetes.io/';
      assert.equal(ing.spec.ingressClassName, 'alb');
      assert.equal(a[`${p}scheme`], 'internet-facing');
      assert.equal(a[`${p}target-type`], 'ip');
      const listen = JSON.parse(a[`${p}listen-ports`] ?? '[]');
      assert.ok(listen.some((l) => l.HTTP === 80) && listen.some((l) => l.HTTPS === 443), 'listens on 80 and 443');
      assert.equal(a[`${p}ssl-redirect`], '443');
      assert.match(a[`${p}certificate-arn`] ?? '', /^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/);
      assert.equal(a[`${p}healthcheck-path`], '/healthz');
      const backends = (ing.spec.rules ?? []).flatMap((r) => r.http?.paths ?? []).map((x) => x.backend.service);
      assert.ok(backends.length > 0, 'the Ingress has backends');
      for (const b of backends) {
        assert.equal(b.name, 'gateway', 'backend is the gateway Service');
        assert.ok(servicePort(b.port.name ?? b.port.number), `the gateway Service has port ${b.port.name ?? b.port.number}`);
      }
    });

    test('rendered Secrets hold only the examples\' placeholders', () => {
      const findings = [];
      for (const s of render(name).filter((o) => o.kind === 'Secret')) {
        const text = Object.entries(secretData(s)).map(([k, v]) => `${k}=${v}`).join('\n');
        findings.push(...secretFindings(id(s), text));
      }
      assert.deepEqual(findings, []);
    });

    if (variant.environment) {
      const env = variant.environment;
      const envName = name;

      test('the environment: its host, VPC range, autoscaling bounds and IAM role', () => {
        const objects = render(name);
        const ing = objects.find((o) => o.kind === 'Ingress');
        assert.deepEqual(ing.spec.rules.map((r) => r.host), [env.host], 'the Ingress serves the environment\'s host');
        assert.deepEqual(vpcCidr(objects), [env.vpc], 'egress to the data stores names the environment\'s VPC range');
        const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
        assert.equal(hpas.length, SERVICES.length, 'one autoscaler per service');
        for (const h of hpas) {
          assert.equal(h.spec.minReplicas, env.minReplicas, `${id(h)}: minReplicas`);
        }
        assert.equal(find(objects, 'HorizontalPodAutoscaler', 'gateway').spec.maxReplicas, env.gatewayMax, 'the gateway\'s maxReplicas');
        const sa = find(objects, 'ServiceAccount', 'emporium');
        assert.match(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'] ?? '', new RegExp(`^arn:aws:iam::\\d{12}:role/emporium-${envName}-app$`),
          'the ServiceAccount assumes the environment\'s app role (Terraform output app_role_arn)');
        const account = sa.metadata.annotations['eks.amazonaws.com/role-arn'].split(':')[4];
        for (const w of objects.filter((o) => isWorkload(o) && isEmporium(o))) {
          for (const c of containersOf(w)) {
            assert.ok(c.image.startsWith(`${account}.dkr.ecr.`), `${id(w)}: image ${c.image} is from the environment's account ${account}`);
          }
        }
      });

      test('the Secret comes from Secrets Manager with every key of the eks example', () => {
        const objects = render(name);
        assert.deepEqual(objects.filter((o) => o.kind === 'Secret').map(id), [], 'no Secret is rendered from git');
        const es = objects.find((o) => o.kind === 'ExternalSecret');
        assert.ok(es, 'an ExternalSecret');
        assert.equal(es.spec.target.name, 'emporium-secrets');
        const store = find(objects, es.spec.secretStoreRef.kind, es.spec.secretStoreRef.name);
        assert.ok(store, `its ${es.spec.secretStoreRef.kind} ${es.spec.secretStoreRef.name} exists`);
        assert.equal(store.spec.provider.aws.service, 'SecretsManager');
        assert.equal(store.spec.provider.aws.auth.jwt.serviceAccountRef.name, 'emporium', 'the store signs in as the IRSA ServiceAccount');
        const example = readFileSync(path.join(k8sDir, 'overlays', 'eks', 'secrets.env.example'), 'utf8');
        const wanted = [...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
        assert.deepEqual(es.spec.data.map((d) => d.secretKey).sort(), wanted, 'the same keys as eks/secrets.env.example');
        for (const d of es.spec.data) {
          assert.equal(d.remoteRef.key, `emporium/${envName}/app`, `${d.secretKey}: read from emporium/${envName}/app`);
          assert.equal(d.remoteRef.property, d.secretKey);
        }
      });

      test('Prometheus scrapes every service and loads the rules of deploy/observability', async () => {
        const objects = render(name);
        const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
        assert.equal(monitors.length, 1, 'one ServiceMonitor');
        const [sm] = monitors;
        assert.ok(sm.spec.namespaceSelector.matchNames.includes(NAMESPACE));
        for (const svc of objects.filter((o) => o.kind === 'Service' && isEmporium(o))) {
          assert.ok(selectorMatches(sm.spec.selector, labelsOf(svc)), `the ServiceMonitor selects Service ${svc.metadata.name}`);
          for (const ep of sm.spec.endpoints) {
            assert.ok(svc.spec.ports.some((p) => p.name === ep.port), `Service ${svc.metadata.name} has port ${ep.port}`);
          }
        }
        assert.ok(sm.spec.endpoints.every((ep) => ep.path === '/metrics' && ep.honorLabels === true), 'endpoints scrape /metrics with honorLabels');
        assert.ok(sm.spec.endpoints.every((ep) => ep.port === 'admin'), 'endpoints scrape port admin (the public port has no /metrics)');
        const { renderPrometheusRule } = await import('../../scripts/prometheus-rule.mjs');
        const generated = YAML.parse(renderPrometheusRule());
        const rule = objects.find((o) => o.kind === 'PrometheusRule');
        assert.ok(rule, 'a PrometheusRule');
        assert.deepEqual(rule.spec, generated.spec,
          'the PrometheusRule differs from deploy/observability/rules: run node scripts/prometheus-rule.mjs');
        const pods = podsOf(objects);
        const prometheus = {
          kind: 'pod', name: 'monitoring/prometheus', namespace: 'monitoring',
          nsLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, labels: { 'app.kubernetes.io/name': 'prometheus' }, ports: [],
        };
        const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
        const services = pods.filter((p) => isEmporium(p.workload) && isLongRunning(p.workload));
        for (const pod of services) {
          assert.ok(flowAllowed(policies, prometheus, pod, 9090), `Prometheus may scrape ${pod.name} on 9090`);
        }
        // Only the monitoring namespace's Prometheus reaches port 9090.
        const elsewhere = [
          { ...prometheus, name: 'monitoring/other', labels: { 'app.kubernetes.io/name': 'grafana' } },
          { ...prometheus, name: 'default/prometheus', namespace: 'default', nsLabels: { 'kubernetes.io/metadata.name': 'default' } },
          ...pods.filter((p) => p.namespace === NAMESPACE),
        ];
        for (const src of elsewhere) {
          for (const pod of services) {
            assert.ok(!flowAllowed(policies, src, pod, 9090), `${src.name} may not reach ${pod.name} on 9090`);
          }
        }
      });
    }
  });
}
