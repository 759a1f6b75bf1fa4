#!/usr/bin/env node
// Sets the image tag an environment's overlay deploys (the `newTag` of its
// `images` entry in deploy/k8s/overlays/<env>/kustomization.yaml), keeping the
// file's comments and layout. The CD pipeline commits the change and Argo CD
// rolls it out.
//
//   node scripts/set-image.mjs ENV TAG         # deploy TAG to ENV
//   node scripts/set-image.mjs ENV --previous  # roll back: the tag ENV had before its current one
//   node scripts/set-image.mjs ENV --current   # print the tag ENV deploys now
//
// --previous reads the file's git history: the newest tag a deploy commit
// set that differs from the current one and that no rollback undid (rollback
// commits carry a `Rollback-Of: TAG` trailer, see scripts/cd-commit.sh).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const TAG = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

function fail(message) {
  console.error(`set-image: ${message}`);
  process.exit(1);
}

export function tagOf(text) {
  const doc = YAML.parseDocument(text);
  const images = doc.get('images');
  if (!images || images.items.length !== 1) throw new Error('expected exactly one entry under images');
  return images.items[0].get('newTag');
}

export function withTag(text, tag) {
  const doc = YAML.parseDocument(text);
  doc.get('images').items[0].set('newTag', tag);
  return doc.toString({ lineWidth: 0 });
}

// The deploy history, newest first: each commit that changed the file, its
// tag then, and the tag it rolled back (the Rollback-Of trailer of the
// commits that `cd.yml` rollback makes).
function history(root, rel) {
  const log = execFileSync('git', ['-C', root, 'log', '--format=%H%x00%B%x1e', '--', rel], { encoding: 'utf8' });
  return log
    .split('\x1e')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [commit, body] = entry.split('\0');
      let tag = null;
      try {
        tag = tagOf(execFileSync('git', ['-C', root, 'show', `${commit}:${rel}`], { encoding: 'utf8' }));
      } catch {
        // the file did not parse at that commit
      }
      return { commit, tag, rollbackOf: /^Rollback-Of:\s*(\S+)/m.exec(body ?? '')?.[1] ?? null };
    });
}

// The tag deployed before the current one, skipping every tag a rollback
// undid (so a second rollback after B -> A goes to the tag before A, never
// back to B) and the commits that were rollbacks themselves.
export function previousTag(root, file, current) {
  const undone = new Set();
  for (const { tag, rollbackOf } of history(root, path.relative(root, file))) {
    if (rollbackOf) {
      undone.add(rollbackOf);
      continue;
    }
    if (tag && tag !== current && !undone.has(tag)) return tag;
  }
  return null;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [env, arg] = process.argv.slice(2);
  const root = process.env.EMPORIUM_REPO ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (!env || !arg) fail('usage: set-image.mjs ENV TAG|--previous|--current');
  const file = path.join(root, 'deploy', 'k8s', 'overlays', env, 'kustomization.yaml');
  if (!/^[a-z0-9-]+$/.test(env) || !existsSync(file)) fail(`no overlay ${env} (${file})`);
  const text = readFileSync(file, 'utf8');
  const current = tagOf(text);
  if (arg === '--current') {
    console.log(current);
    process.exit(0);
  }
  const tag = arg === '--previous' ? previousTag(root, file, current) : arg;
  if (!tag) fail(`${env}: no earlier tag in the git history of ${path.relative(root, file)}`);
  if (!TAG.test(tag)) fail(`${tag} is not a release tag (VERSION or VERSION-SUFFIX, never latest)`);
  writeFileSync(file, withTag(text, tag));
  console.log(`${env}: ${current} -> ${tag}`);
}
