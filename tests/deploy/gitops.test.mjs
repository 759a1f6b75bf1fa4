// Checks deploy/argocd offline: the app of apps and every Application and
// AppProject validate against @kubernetes-models/argo-cd; the root syncs
// deploy/argocd/apps, which renders (kubectl kustomize) to the project and one
// Application per environment; each points at that environment's overlay in
// this repository, which renders too; dev and staging sync by themselves, and
// so does prod, whose changes reach main only through the approved CD job.
//
//   node --test tests/deploy/gitops.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { Application, AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argoDir = path.join(repoRoot, 'deploy', 'argocd');
const kubectl = process.env.KUBECTL || 'kubectl';
const ENVIRONMENTS = ['dev', 'staging', 'prod'];
const MODELS = { Application, AppProject };

function kustomize(dir) {
  const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error?.code === 'ENOENT') assert.fail(`kubectl not found (set KUBECTL)`);
  assert.equal(r.status, 0, `kubectl kustomize ${path.relative(repoRoot, dir)}:\n${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
}

const root = YAML.parse(readFileSync(path.join(argoDir, 'root.yaml'), 'utf8'));
const apps = kustomize(path.join(argoDir, 'apps'));

test('every Argo CD object validates against @kubernetes-models/argo-cd', () => {
  const errors = [];
  for (const o of [root, ...apps]) {
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

test('the app of apps syncs deploy/argocd/apps: the project and one Application per environment', () => {
  assert.equal(root.kind, 'Application');
  assert.equal(root.spec.source.path, 'deploy/argocd/apps');
  assert.ok(existsSync(path.join(repoRoot, root.spec.source.path)), 'its path exists');
  assert.ok(root.spec.syncPolicy?.automated, 'the root syncs by itself');
  const kinds = apps.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  assert.deepEqual(kinds, ['AppProject/emporium', ...ENVIRONMENTS.map((e) => `Application/emporium-${e}`)].sort());
});

test('each environment\'s Application deploys its overlay from this repository into emporium', () => {
  const project = apps.find((o) => o.kind === 'AppProject');
  for (const env of ENVIRONMENTS) {
    const app = apps.find((o) => o.metadata.name === `emporium-${env}`);
    const at = `Application emporium-${env}`;
    assert.equal(app.metadata.namespace, 'argocd', `${at}: in argocd`);
    assert.equal(app.spec.project, project.metadata.name, `${at}: in the project`);
    assert.equal(app.spec.source.repoURL, root.spec.source.repoURL, `${at}: the same repository as the root`);
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
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'emporium-migrate');
    assert.equal(job?.metadata.annotations?.['argocd.argoproj.io/hook'], 'PreSync', `${at}: migrations run before the sync`);
    for (const o of objects) {
      if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'emporium', `${at}: ${o.kind}/${o.metadata.name} in emporium`);
    }
    const clusterScoped = objects.filter((o) => o.kind === 'Namespace').map((o) => o.kind);
    for (const kind of clusterScoped) {
      assert.ok(project.spec.clusterResourceWhitelist.some((w) => w.kind === kind), `${at}: the project allows ${kind}`);
    }
  }
});
