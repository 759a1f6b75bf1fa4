// Checks deploy/terraform offline (no terraform binary, no AWS): every HCL
// file parses (@cdktf/hcl2json, HCL's own parser) and is formatted as
// `terraform fmt` would (@cdktf/hcl-tools), and the parsed configuration has
// the settings the estate must keep: S3 state with locking, every variable
// described and typed, modules wired to what exists, encryption, no public
// database or broker, backups with PITR, Multi-AZ and deletion protection in
// prod, IRSA roles trusted only by their ServiceAccount, ECR immutable and
// scanned, a supported EKS with network policies, and environments that
// match their Kubernetes overlays.
//
//   node --test tests/deploy/terraform.test.mjs

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { format } from '@cdktf/hcl-tools';
import YAML from 'yaml';
import { hclFiles, terraformDir } from '../../scripts/hcl-fmt.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rel = (f) => path.relative(repoRoot, f);
const ENVIRONMENTS = ['dev', 'staging', 'prod'];

const parsed = new Map(); // file -> JSON
let modules = {}; // dir (relative to deploy/terraform) -> merged JSON of its .tf files

function merge(into, from) {
  for (const [k, v] of Object.entries(from)) {
    if (Array.isArray(v)) into[k] = [...(into[k] ?? []), ...v];
    else if (v && typeof v === 'object') into[k] = merge(into[k] ?? {}, v);
    else into[k] = v;
  }
  return into;
}

before(async () => {
  for (const file of hclFiles()) {
    try {
      parsed.set(file, await parse(path.basename(file), readFileSync(file, 'utf8')));
    } catch (e) {
      parsed.set(file, e);
    }
  }
  modules = {};
  for (const [file, json] of parsed) {
    if (!file.endsWith('.tf') || json instanceof Error) continue;
    const dir = path.relative(terraformDir, path.dirname(file)) || '.';
    modules[dir] = merge(modules[dir] ?? {}, json);
  }
});

// Blocks of a kind across a module: [[name, body], ...] (hcl2json keeps each
// block as a one-element array).
const blocks = (mod, kind, type) =>
  Object.entries((type ? mod?.[kind]?.[type] : mod?.[kind]) ?? {}).map(([n, v]) => [n, Array.isArray(v) ? v[0] : v]);
const resource = (dir, type, name) => {
  const found = blocks(modules[dir], 'resource', type).find(([n]) => !name || n === name);
  assert.ok(found, `deploy/terraform/${dir} has no resource ${type}${name ? `.${name}` : ''}`);
  return found[1];
};
const tfvars = (env) => parsed.get(path.join(terraformDir, 'environments', `${env}.tfvars`));

test('every .tf, .tfvars and .tfbackend file parses', () => {
  assert.ok(parsed.size > 10, `HCL files under deploy/terraform: ${parsed.size}`);
  const errors = [...parsed].filter(([, j]) => j instanceof Error).map(([f, e]) => `${rel(f)}: ${e.message}`);
  assert.deepEqual(errors, []);
});

test('every file is formatted as terraform fmt would (node scripts/hcl-fmt.mjs fixes it)', async () => {
  const unformatted = [];
  for (const file of parsed.keys()) {
    const text = readFileSync(file, 'utf8');
    if ((await format(text)) !== text) unformatted.push(rel(file));
  }
  assert.deepEqual(unformatted, [], 'run node scripts/hcl-fmt.mjs');
});

test('state: S3 backend, encrypted and locked, one key per environment', () => {
  const backend = modules['.'].terraform?.[0]?.backend?.s3?.[0];
  assert.ok(backend, 'the root module declares backend "s3"');
  assert.equal(backend.encrypt, true, 'state is encrypted');
  assert.ok(backend.use_lockfile === true || typeof backend.dynamodb_table === 'string', 'state is locked (use_lockfile or dynamodb_table)');
  assert.match(modules['.'].terraform[0].required_version, />=\s*1\.(1[0-9]|[2-9]\d)/, 'Terraform 1.10+ (S3 lock files)');
  const keys = new Set();
  for (const env of ENVIRONMENTS) {
    const b = parsed.get(path.join(terraformDir, 'environments', `${env}.s3.tfbackend`));
    assert.ok(b && !(b instanceof Error), `environments/${env}.s3.tfbackend exists and parses`);
    for (const k of ['bucket', 'key', 'region']) assert.ok(b[k], `${env}.s3.tfbackend sets ${k}`);
    assert.ok(b.key.includes(env), `${env}'s state key names the environment`);
    keys.add(`${b.bucket}/${b.key}`);
  }
  assert.equal(keys.size, ENVIRONMENTS.length, 'each environment has its own state');
});

test('every variable has a description and a type; every output a description', () => {
  const problems = [];
  for (const [dir, mod] of Object.entries(modules)) {
    for (const [name, v] of blocks(mod, 'variable')) {
      if (!v.description?.trim()) problems.push(`${dir}: variable ${name} has no description`);
      if (!v.type) problems.push(`${dir}: variable ${name} has no type`);
    }
    for (const [name, o] of blocks(mod, 'output')) {
      if (!o.description?.trim()) problems.push(`${dir}: output ${name} has no description`);
    }
  }
  assert.deepEqual(problems, []);
});

test('module calls name existing modules, set every required variable and no unknown one', () => {
  const problems = [];
  for (const [dir, mod] of Object.entries(modules)) {
    for (const [name, call] of blocks(mod, 'module')) {
      const target = path.normalize(path.join(dir, call.source));
      const callee = modules[target];
      if (!callee) {
        problems.push(`${dir}: module ${name} sources ${call.source}, which has no .tf files`);
        continue;
      }
      const vars = Object.fromEntries(blocks(callee, 'variable'));
      const meta = new Set(['source', 'version', 'count', 'for_each', 'depends_on', 'providers']);
      for (const arg of Object.keys(call).filter((a) => !meta.has(a))) {
        if (!vars[arg]) problems.push(`${dir}: module ${name} sets ${arg}, which ${target} does not declare`);
      }
      for (const [v, decl] of Object.entries(vars)) {
        if (!('default' in decl) && !(v in call)) problems.push(`${dir}: module ${name} does not set ${v}`);
      }
      for (const m of JSON.stringify(call).matchAll(/module\.([a-z0-9_]+)\.([a-z0-9_]+)/g)) {
        const other = blocks(mod, 'module').find(([n]) => n === m[1]);
        const outputs = other && Object.fromEntries(blocks(modules[path.normalize(path.join(dir, other[1].source))], 'output'));
        if (!outputs?.[m[2]]) problems.push(`${dir}: module ${name} reads module.${m[1]}.${m[2]}, which is not an output`);
      }
    }
  }
  const rootVars = Object.fromEntries(blocks(modules['.'], 'variable'));
  for (const env of ENVIRONMENTS) {
    const values = tfvars(env);
    for (const k of Object.keys(values)) if (!rootVars[k]) problems.push(`${env}.tfvars sets ${k}, which is not a variable`);
    for (const [k, d] of Object.entries(rootVars)) if (!('default' in d) && !(k in values)) problems.push(`${env}.tfvars does not set ${k}`);
  }
  assert.deepEqual(problems, []);
});

test('network: three zones, private node and data subnets, NAT, endpoints for ECR, S3 and STS', () => {
  const net = modules['modules/network'];
  for (const kind of ['public', 'nodes', 'data']) {
    assert.equal(resource('modules/network', 'aws_subnet', kind).for_each, '${local.zones}', `one ${kind} subnet per zone`);
  }
  const zonesVar = Object.fromEntries(blocks(net, 'variable')).availability_zones;
  assert.match(zonesVar.validation[0].condition, /length\(var\.availability_zones\) == 3/, 'the module requires three zones');
  assert.ok(resource('modules/network', 'aws_nat_gateway'), 'NAT gateways');
  const dataRoutes = resource('modules/network', 'aws_route_table', 'data');
  assert.equal(dataRoutes.route, undefined, 'the data subnets have no route out');
  const interfaces = resource('modules/network', 'aws_vpc_endpoint', 'interface');
  for (const svc of ['ecr.api', 'ecr.dkr', 'sts']) assert.ok(interfaces.for_each.includes(`"${svc}"`), `an interface endpoint for ${svc}`);
  assert.equal(interfaces.private_dns_enabled, true);
  const s3 = resource('modules/network', 'aws_vpc_endpoint', 's3');
  assert.match(s3.service_name, /\.s3$/);
  assert.equal(s3.vpc_endpoint_type, 'Gateway');
  for (const env of ENVIRONMENTS) assert.equal(tfvars(env).availability_zones.length, 3, `${env}: three zones`);
});

test('EKS: a supported version, managed nodes, OIDC for IRSA, network policies, EBS CSI, encrypted secrets', () => {
  const cluster = resource('modules/eks', 'aws_eks_cluster');
  assert.ok(cluster.encryption_config?.[0]?.resources.includes('secrets'), 'Kubernetes secrets encrypted with KMS');
  const versions = Object.fromEntries(blocks(modules['modules/eks'], 'variable')).kubernetes_version.validation[0].condition;
  for (const env of ENVIRONMENTS) {
    const v = tfvars(env).kubernetes_version;
    assert.ok(versions.includes(`"${v}"`), `${env}: Kubernetes ${v} is one the module accepts`);
    assert.ok(Number(v.split('.')[1]) >= 31, `${env}: Kubernetes ${v} is in EKS standard support`);
  }
  assert.ok(resource('modules/eks', 'aws_eks_node_group').scaling_config, 'a managed node group');
  assert.ok(resource('modules/eks', 'aws_iam_openid_connect_provider').client_id_list.includes('sts.amazonaws.com'), 'an OIDC provider for STS');
  const cni = blocks(modules['modules/eks'], 'resource', 'aws_eks_addon').map(([, b]) => b);
  const vpcCni = cni.find((a) => a.addon_name === 'vpc-cni');
  assert.match(vpcCni?.configuration_values ?? '', /enableNetworkPolicy\s*=\s*"true"/, 'the VPC CNI enforces NetworkPolicies');
  assert.ok(cni.some((a) => a.addon_name === 'aws-ebs-csi-driver' && a.service_account_role_arn), 'the EBS CSI driver with its IRSA role');
});

test('EKS add-ons install over the copies a new cluster has; nodes wait for the CNI; the control plane may use the KMS key', () => {
  const addons = blocks(modules['modules/eks'], 'resource', 'aws_eks_addon');
  assert.deepEqual(addons.map(([, a]) => a.addon_name).sort(), ['aws-ebs-csi-driver', 'coredns', 'kube-proxy', 'vpc-cni']);
  for (const [name, a] of addons) {
    assert.equal(a.resolve_conflicts_on_create, 'OVERWRITE', `aws_eks_addon.${name}: overwrites the self-managed copy`);
  }
  const vpcCni = addons.find(([, a]) => a.addon_name === 'vpc-cni');
  assert.match(vpcCni[1].service_account_role_arn ?? '', /var\.vpc_cni_role_arn/, 'the VPC CNI with its IRSA role');
  const cniRole = blocks(modules['.'], 'module').find(([n]) => n === 'irsa_vpc_cni')[1];
  assert.deepEqual(cniRole.managed_policy_arns, ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'], 'the CNI role has AmazonEKS_CNI_Policy');
  const eksCall = blocks(modules['.'], 'module').find(([n]) => n === 'eks')[1];
  assert.match(eksCall.vpc_cni_role_arn, /module\.irsa_vpc_cni\.role_arn/, 'the cluster gets that role for aws-node');
  const nodes = resource('modules/eks', 'aws_eks_node_group');
  assert.ok(nodes.depends_on.includes('${aws_eks_addon.vpc_cni}'), `the node group depends on the VPC CNI add-on: ${nodes.depends_on}`);
  const kms = blocks(modules['modules/eks'], 'data', 'aws_iam_policy_document').find(([n]) => n === 'cluster_kms')?.[1];
  assert.ok(kms, 'a KMS policy for the cluster role');
  assert.deepEqual([...kms.statement[0].actions].sort(), ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ListGrants']);
  assert.deepEqual(kms.statement[0].resources, ['${var.kms_key_arn}']);
  const policy = resource('modules/eks', 'aws_iam_role_policy', 'cluster_kms');
  assert.equal(policy.role, '${aws_iam_role.cluster.id}', 'on the cluster role');
  const cluster = resource('modules/eks', 'aws_eks_cluster');
  assert.ok(cluster.depends_on.includes('${aws_iam_role_policy.cluster_kms}'), 'the cluster waits for the KMS policy');
});

test('IRSA: each role is trusted only by its ServiceAccount through the cluster OIDC provider', () => {
  const doc = blocks(modules['modules/irsa'], 'data', 'aws_iam_policy_document').find(([n]) => n === 'assume')[1];
  const st = doc.statement[0];
  assert.deepEqual(st.actions, ['sts:AssumeRoleWithWebIdentity']);
  assert.deepEqual(st.principals[0], { identifiers: ['${var.oidc_provider_arn}'], type: 'Federated' });
  const sub = st.condition.find((c) => c.variable.endsWith(':sub'));
  const aud = st.condition.find((c) => c.variable.endsWith(':aud'));
  assert.equal(sub?.test, 'StringEquals', 'sub is matched exactly (no wildcard)');
  assert.deepEqual(sub.values, ['system:serviceaccount:${var.namespace}:${var.service_account}']);
  assert.deepEqual(aud?.values, ['sts.amazonaws.com']);
  // The roles the root module makes, and the ServiceAccounts that exist.
  const calls = blocks(modules['.'], 'module').filter(([, c]) => c.source === './modules/irsa');
  const bound = Object.fromEntries(calls.map(([n, c]) => [n, `${c.namespace}/${c.service_account}`]));
  assert.deepEqual(Object.values(bound).sort(), [
    'emporium/emporium', 'kube-system/aws-load-balancer-controller', 'kube-system/aws-node', 'kube-system/ebs-csi-controller-sa',
  ]);
  const sa = YAML.parse(readFileSync(path.join(repoRoot, 'deploy/k8s/base/serviceaccount.yaml'), 'utf8'));
  assert.equal(`emporium/${sa.metadata.name}`, bound.irsa_app, 'the app role is bound to the pods\' ServiceAccount');
  const ci = blocks(modules['modules/github-oidc'], 'data', 'aws_iam_policy_document').find(([n]) => n === 'assume')[1].statement[0];
  assert.deepEqual(ci.condition.find((c) => c.variable.endsWith(':sub')).values, ['repo:${var.repository}:ref:refs/heads/main'],
    'only workflows on main may push images');
  const plan = resource('modules/github-oidc', 'aws_iam_role', 'plan');
  assert.equal(plan.assume_role_policy, '${data.aws_iam_policy_document.assume.json}', 'the plan role: main only too');
  assert.equal(resource('modules/github-oidc', 'aws_iam_role_policy_attachment', 'plan_read_only').policy_arn,
    'arn:aws:iam::aws:policy/ReadOnlyAccess', 'the plan role reads, never writes');
});

test('RDS: PostgreSQL 15, encrypted, private, TLS, backups with PITR; Multi-AZ and deletion protection in prod', () => {
  const db = resource('modules/rds', 'aws_db_instance');
  assert.equal(db.engine, 'postgres');
  assert.equal(db.engine_version, '15', 'PostgreSQL 15, the major version only: a pinned minor would fight the automatic upgrades');
  assert.equal(db.auto_minor_version_upgrade, true, 'minor versions upgrade automatically');
  assert.equal(db.storage_encrypted, true, 'storage encrypted');
  assert.ok(db.kms_key_id, 'with the environment\'s KMS key');
  assert.equal(db.publicly_accessible, false, 'not publicly accessible');
  assert.equal(db.backup_retention_period, '${var.backup_retention_days}');
  assert.equal(db.multi_az, '${var.multi_az}');
  assert.equal(db.deletion_protection, '${var.deletion_protection}');
  const params = resource('modules/rds', 'aws_db_parameter_group').parameter;
  assert.ok(params.some((p) => p.name === 'rds.force_ssl' && p.value === '1'), 'TLS required');
  const sg = resource('modules/rds', 'aws_security_group');
  for (const rule of sg.ingress) {
    assert.equal(rule.cidr_blocks, undefined, 'no ingress by address range');
    assert.deepEqual(rule.security_groups, ['${var.client_security_group}'], 'ingress only from the nodes\' security group');
    assert.equal(rule.from_port, 5432);
  }
  const call = blocks(modules['.'], 'module').find(([n]) => n === 'rds')[1];
  assert.match(call.subnet_ids, /data_subnet_ids/, 'in the data subnets');
  assert.match(call.client_security_group, /module\.eks\.node_security_group_id/, 'reachable from the nodes');
  for (const env of ENVIRONMENTS) {
    assert.ok(tfvars(env).db_backup_retention_days >= 7, `${env}: backups kept 7 days or more`);
  }
  assert.equal(tfvars('prod').db_multi_az, true, 'prod: Multi-AZ');
  assert.equal(tfvars('prod').db_deletion_protection, true, 'prod: deletion protection');
  assert.equal(call.final_snapshot_required, '${var.environment == "prod"}', 'prod takes a final snapshot');
});

test('ElastiCache and Amazon MQ: private, reachable from the nodes only, encrypted at rest', () => {
  const redis = resource('modules/elasticache', 'aws_elasticache_replication_group');
  assert.equal(redis.at_rest_encryption_enabled, true);
  assert.equal(redis.engine, 'redis');
  const mq = resource('modules/mq', 'aws_mq_broker');
  assert.equal(mq.engine_type, 'RabbitMQ');
  assert.equal(mq.publicly_accessible, false);
  for (const dir of ['modules/elasticache', 'modules/mq']) {
    for (const rule of resource(dir, 'aws_security_group').ingress) {
      assert.equal(rule.cidr_blocks, undefined, `${dir}: no ingress by address range`);
      assert.deepEqual(rule.security_groups, ['${var.client_security_group}'], `${dir}: from the nodes only`);
    }
  }
  assert.equal(tfvars('prod').mq_cluster, true, 'prod: the broker is a Multi-AZ cluster');
  assert.ok(tfvars('prod').redis_replicas >= 1, 'prod: Redis has a replica (failover)');
});

test('ECR: immutable tags, scan on push, a lifecycle policy, pushed by CI through OIDC only', () => {
  const repo = resource('modules/ecr', 'aws_ecr_repository');
  assert.equal(repo.image_tag_mutability, 'IMMUTABLE');
  assert.equal(repo.image_scanning_configuration[0].scan_on_push, true);
  assert.equal(repo.encryption_configuration[0].encryption_type, 'KMS');
  assert.ok(resource('modules/ecr', 'aws_ecr_lifecycle_policy').policy.includes('expire'), 'old images expire');
  const keyHolders = Object.entries(modules).filter(([, m]) => m.resource?.aws_iam_access_key).map(([d]) => d);
  assert.deepEqual(keyHolders, ['modules/ses'], 'no stored AWS keys but SES\'s SMTP credentials (CI signs in through OIDC)');
  assert.ok(resource('modules/github-oidc', 'aws_iam_role', 'ci'), 'CI\'s role');
});

test('Secrets Manager: the entry the overlays read, with exactly the keys they expect', () => {
  const example = readFileSync(path.join(repoRoot, 'deploy/k8s/overlays/eks/secrets.env.example'), 'utf8');
  const wanted = [...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
  const version = resource('modules/secrets', 'aws_secretsmanager_secret_version');
  const keys = [...version.secret_string.matchAll(/\b(EMPORIUM_[A-Z0-9_]+)\s*=/g)].map((m) => m[1]).sort();
  assert.deepEqual(keys, wanted, 'the secret\'s JSON keys are those of eks/secrets.env.example');
  assert.ok(resource('modules/secrets', 'aws_secretsmanager_secret').kms_key_id, 'encrypted with the environment\'s key');
  const call = blocks(modules['.'], 'module').find(([n]) => n === 'secrets')[1];
  for (const env of ENVIRONMENTS) {
    const name = call.name.replace('${var.environment}', env);
    const es = YAML.parseAllDocuments(readFileSync(path.join(repoRoot, `deploy/k8s/overlays/${env}/secrets.yaml`), 'utf8'))
      .map((d) => d.toJS()).find((o) => o.kind === 'ExternalSecret');
    assert.deepEqual([...new Set(es.spec.data.map((d) => d.remoteRef.key))], [name], `${env}: the ExternalSecret reads ${name}`);
  }
});

test('environments match their Kubernetes overlays: VPC range, region, host', () => {
  for (const env of ENVIRONMENTS) {
    const dir = path.join(repoRoot, 'deploy/k8s/overlays', env);
    assert.ok(existsSync(dir), `deploy/k8s/overlays/${env} exists`);
    const k = readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8');
    const v = tfvars(env);
    assert.equal(v.environment, env);
    assert.ok(k.includes(`value: ${v.vpc_cidr}`), `${env}: the overlay's egress range is vpc_cidr ${v.vpc_cidr}`);
    assert.ok(k.includes(`.dkr.ecr.${v.region}.amazonaws.com/emporium`), `${env}: the image is from ECR in ${v.region}`);
    const ingress = readFileSync(path.join(dir, 'patches/ingress.yaml'), 'utf8');
    assert.ok(ingress.includes(`host: ${v.hostname}`), `${env}: the Ingress host is ${v.hostname}`);
  }
  const cidrs = ENVIRONMENTS.map((e) => tfvars(e).vpc_cidr);
  assert.equal(new Set(cidrs).size, cidrs.length, 'each environment has its own VPC range');
});
