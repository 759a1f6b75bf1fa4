#!/usr/bin/env node
// `terraform fmt` for deploy/terraform without terraform: formats every .tf,
// .tfvars and .tfbackend file with HCL's own formatter (@cdktf/hcl-tools,
// hclwrite.Format). tests/deploy/terraform.test.mjs fails on any file this
// would change.
//
//   node scripts/hcl-fmt.mjs          # rewrite files in place
//   node scripts/hcl-fmt.mjs --check  # list the files that would change; exit 1 if any
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from '@cdktf/hcl-tools';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const terraformDir = path.join(root, 'deploy', 'terraform');

export function hclFiles(dir = terraformDir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === '.terraform' ? [] : hclFiles(full);
    return /\.(tf|tfvars|tfbackend)$/.test(e.name) ? [full] : [];
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const changed = [];
  for (const file of hclFiles()) {
    const text = readFileSync(file, 'utf8');
    const formatted = await format(text);
    if (formatted !== text) {
      changed.push(path.relative(root, file));
      if (!check) writeFileSync(file, formatted);
    }
  }
  for (const f of changed) console.log(check ? `not formatted: ${f}` : `formatted: ${f}`);
  process.exit(check && changed.length ? 1 : 0);
}
