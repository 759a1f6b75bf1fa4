// Checks deploy/argocd offline: every root (one per cluster, root-<env>.yaml)
// and every Application and AppProject validate against
// @kubernetes-models/argo-cd; each root syncs deploy/argocd/apps/<env>, which
// renders (kubectl kustomize) to the project and that environment's
// Application only, so no cluster ever syncs another environment; each
// Application points at its overlay in this repository, which renders too;
// dev and staging sync by themselves, and so does prod, whose changes reach
// main only through the approved CD job. The overlays' sync waves create
// what the migration Job needs before it runs, and the Job before the
// Deployments; every cluster-scoped object is one the project allows.
//
//   node --test tests/deploy/gitops.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { Application, AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argoDir = path.join(repoRoot, 'deploy', 'argocd');
const kubectl = process.env.KUBECTL || 'kubectl';
const ENVIRONMENTS = ['dev', 'staging', 'prod'];
const MODELS = { Application, AppProject };
// The cluster-scoped kinds of Kubernetes and the add-ons the overlays use: an
// object of one of these kinds needs the project's clusterResourceWhitelist.
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'CSIDriver', 'CSINode', 'VolumeAttachment',
  'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'APIService', 'PriorityClass',
  'RuntimeClass', 'IngressClass', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'CertificateSigningRequest',
  'ClusterSecretStore', 'ClusterExternalSecret', 'ClusterIssuer', 'GatewayClass',
]);

function kustomize(dir) {
  const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error?.code === 'ENOENT') assert.fail(`kubectl not found (set KUBECTL)`);
  assert.equal(r.status, 0, `kubectl kustomize ${path.relative(repoRoot, dir)}:\n${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
}

const roots = Object.fromEntries(ENVIRONMENTS.map((env) => [env, YAML.parse(readFileSync(path.join(argoDir, `root-${env}.yaml`), 'utf8'))]));
const apps = Object.fromEntries(ENVIRONMENTS.map((env) => [env, kustomize(path.join(repoRoot, roots[env].spec.source.path))]));
const wave = (o) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);

test('one root per cluster: root-dev, root-staging, root-prod, and no other', () => {
  const files = readdirSync(argoDir).filter((f) => /^root.*\.ya?ml$/.test(f)).sort();
  assert.deepEqual(files, ENVIRONMENTS.map((e) => `root-${e}.yaml`).sort());
});

test('every Argo CD object validates against @kubernetes-models/argo-cd', () => {
  const errors = [];
  for (const o of [...Object.values(roots), ...Object.values(apps).flat()]) {
    const Model = MODELS[o.kind];
    if (!Model || o.apiVersion !== 'argoproj.io/v1alpha1') {
      errors.push(`${o.kind}/${o.metadata?.name}: not an argoproj.io/v1alpha1 Application or AppProject`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (e) {
      errors.push(`${o.kind}/${o.metadata.name}: ${e.message}`);
    }
  }
  assert.deepEqual(errors, []);
});

test('each root syncs the project and its own environment\'s Application, nothing of another environment', () => {
  const overlays = new Set();
  for (const env of ENVIRONMENTS) {
    const root = roots[env];
    const at = `root-${env}.yaml`;
    assert.equal(root.kind, 'Application');
    assert.equal(root.spec.source.path, `deploy/argocd/apps/${env}`, `${at}: syncs apps/${env}`);
    assert.ok(existsSync(path.join(repoRoot, root.spec.source.path)), `${at}: its path exists`);
    assert.ok(root.spec.syncPolicy?.automated, `${at}: syncs by itself`);
    const kinds = apps[env].map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds, ['AppProject/emporium', `Application/emporium-${env}`].sort(), `${at}: one environment`);
    for (const app of apps[env].filter((o) => o.kind === 'Application')) overlays.add(app.spec.source.path);
  }
  assert.equal(overlays.size, ENVIRONMENTS.length, 'no overlay is synced by two roots');
});

test('each environment\'s Application deploys its overlay from this repository into emporium', () => {
  for (const env of ENVIRONMENTS) {
    const project = apps[env].find((o) => o.kind === 'AppProject');
    const app = apps[env].find((o) => o.metadata.name === `emporium-${env}`);
    const at = `Application emporium-${env}`;
    assert.equal(app.metadata.namespace, 'argocd', `${at}: in argocd`);
    assert.equal(app.spec.project, project.metadata.name, `${at}: in the project`);
    assert.equal(app.spec.source.repoURL, roots[env].spec.source.repoURL, `${at}: the same repository as the root`);
    assert.ok(project.spec.sourceRepos.includes(app.spec.source.repoURL), `${at}: a repository the project allows`);
    assert.equal(app.spec.source.targetRevision, 'main');
    assert.equal(app.spec.source.path, `deploy/k8s/overlays/${env}`, `${at}: its own overlay`);
    assert.equal(app.spec.destination.namespace, 'emporium');
    assert.ok(project.spec.destinations.some((d) => d.namespace === 'emporium' && d.server === app.spec.destination.server),
      `${at}: a destination the project allows`);
    assert.equal(app.spec.syncPolicy?.automated?.prune, true, `${at}: syncs and prunes by itself`);
    assert.equal(app.spec.syncPolicy?.automated?.selfHeal, true, `${at}: undoes changes made by hand`);
    assert.ok((app.spec.ignoreDifferences ?? []).some((d) => d.kind === 'Deployment' && d.jsonPointers.includes('/spec/replicas')),
      `${at}: leaves the replica counts to the autoscalers`);
    const objects = kustomize(path.join(repoRoot, app.spec.source.path));
    for (const o of objects) {
      const name = `${o.kind}/${o.metadata.name}`;
      if (CLUSTER_SCOPED.has(o.kind)) {
        const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
        assert.ok(project.spec.clusterResourceWhitelist.some((w) => w.kind === o.kind && w.group === group),
          `${at}: the project allows the cluster-scoped ${name}`);
      } else {
        assert.equal(o.metadata.namespace, 'emporium', `${at}: ${name} in emporium`);
      }
    }
  }
});

test('sync waves: what the migration needs first, then the migration, then the services', () => {
  for (const env of ENVIRONMENTS) {
    const objects = kustomize(path.join(repoRoot, 'deploy', 'k8s', 'overlays', env));
    const at = `overlays/${env}`;
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'emporium-migrate');
    const hook = job.metadata.annotations?.['argocd.argoproj.io/hook'];
    // A PreSync hook runs before any wave: before the Secret and ConfigMap it reads exist.
    assert.equal(hook, 'Sync', `${at}: the migration is a Sync hook (in the waves), not ${hook}`);
    assert.equal(job.metadata.annotations['argocd.argoproj.io/hook-delete-policy'], 'BeforeHookCreation', `${at}: a new Job each sync`);
    const spec = job.spec.template.spec;
    const needs = new Set([
      `ServiceAccount/${spec.serviceAccountName}`,
      `Namespace/${job.metadata.namespace}`,
      ...spec.containers.flatMap((c) => (c.env ?? []).flatMap((e) => [
        e.valueFrom?.secretKeyRef && `Secret/${e.valueFrom.secretKeyRef.name}`,
        e.valueFrom?.configMapKeyRef && `ConfigMap/${e.valueFrom.configMapKeyRef.name}`,
      ])).filter(Boolean),
    ]);
    for (const need of needs) {
      const [kind, name] = need.split('/');
      // The Secret comes from an ExternalSecret (and its SecretStore) in the overlay.
      const makers = kind === 'Secret'
        ? objects.filter((o) => (o.kind === 'ExternalSecret' && o.spec.target.name === name) || o.kind === 'SecretStore')
        : objects.filter((o) => o.kind === kind && o.metadata.name === name);
      assert.ok(makers.length, `${at}: the migration needs ${need}, which the overlay makes`);
      for (const m of makers) {
        assert.ok(wave(m) < wave(job), `${at}: ${m.kind}/${m.metadata.name} (wave ${wave(m)}) before the migration (wave ${wave(job)})`);
      }
    }
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      assert.ok(wave(d) > wave(job), `${at}: Deployment/${d.metadata.name} (wave ${wave(d)}) after the migration`);
    }
  }
});
