// Checks docs/openapi.yaml: it lints clean with Redocly, and it documents exactly
// the routes the emporium binary serves.
//
//   npm ci                                   # once: installs @redocly/cli and yaml
//   node --test tests/api/                   # from the repository root
//   EMPORIUM_BINARY=/path/to/emporium node --test tests/api/
//
// The binary defaults to build/emporium under the repository root; a relative
// EMPORIUM_BINARY is taken from the current directory. The route check fails (never
// skips) when the binary is missing or `emporium routes` fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const specPath = path.join(repoRoot, 'docs', 'openapi.yaml');

// The HTTP methods an OpenAPI path item can hold. HEAD (served by the GET handler)
// and OPTIONS (CORS preflight) are answered for every path and not listed as routes.
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const EXCLUDED = new Set(['HEAD', 'OPTIONS']);

// Redocly must not phone home (telemetry) or check npm for a newer version.
const quietEnv = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_COLOR: '1',
};

function key(method, route) {
  return `${method.toUpperCase()} ${route}`;
}

function specOperations() {
  const doc = YAML.parse(readFileSync(specPath, 'utf8'));
  assert.ok(doc && typeof doc.paths === 'object', 'docs/openapi.yaml has no paths');
  const ops = [];
  for (const [route, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      if (item[method] !== undefined && !EXCLUDED.has(method.toUpperCase())) {
        ops.push(key(method, route));
      }
    }
  }
  return ops;
}

function binaryRoutes() {
  const binary = process.env.EMPORIUM_BINARY
    ? path.resolve(process.cwd(), process.env.EMPORIUM_BINARY)
    : path.join(repoRoot, 'build', 'emporium');
  // Emporium refuses unknown EMPORIUM_* variables, such as EMPORIUM_BINARY itself.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('EMPORIUM_')),
  );
  const run = spawnSync(binary, ['routes'], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.ifError(run.error && new Error(`cannot run ${binary} routes: ${run.error.message}`));
  assert.equal(
    run.status,
    0,
    `${binary} routes exited with ${run.status ?? run.signal}\n${run.stderr}${run.stdout}`,
  );
  let routes;
  try {
    routes = JSON.parse(run.stdout);
  } catch (e) {
    assert.fail(`${binary} routes did not print JSON (${e.message}):\n${run.stdout}`);
  }
  assert.ok(Array.isArray(routes), `${binary} routes printed ${typeof routes}, not an array`);
  return routes.map((r, i) => {
    assert.ok(
      r && typeof r.method === 'string' && typeof r.path === 'string',
      `route #${i} is not {"method": string, "path": string}: ${JSON.stringify(r)}`,
    );
    return { method: r.method.toUpperCase(), path: r.path };
  });
}

function duplicates(list) {
  return [...new Set(list.filter((x, i) => list.indexOf(x) !== i))];
}

test('docs/openapi.yaml passes redocly lint', () => {
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const run = spawnSync(
    npx,
    ['--no-install', 'redocly', 'lint', 'docs/openapi.yaml', '--config', 'redocly.yaml', '--format=json'],
    { cwd: repoRoot, env: quietEnv, encoding: 'utf8', timeout: 120_000 },
  );
  assert.ifError(run.error);
  const output = `${run.stdout}\n${run.stderr}`;
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    assert.fail(`redocly lint printed no JSON report (did you run \`npm ci\`?):\n${output}`);
  }
  const describe = (severity) =>
    report.problems
      .filter((p) => p.severity === severity)
      .map((p) => `${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? '?'}`);
  assert.equal(report.totals.errors, 0, `redocly lint errors:\n${describe('error').join('\n')}`);
  assert.equal(run.status, 0, `redocly lint exited with ${run.status ?? run.signal}:\n${output}`);
  for (const warning of describe('warn')) {
    console.warn(`redocly lint warning: ${warning}`);
  }
});

test('the operations in docs/openapi.yaml are exactly the routes of `emporium routes`', () => {
  const documented = specOperations();
  assert.deepEqual(duplicates(documented), [], 'operations documented twice');

  const served = binaryRoutes()
    .filter((r) => !EXCLUDED.has(r.method))
    .map((r) => key(r.method, r.path));
  assert.deepEqual(duplicates(served), [], 'routes listed twice by `emporium routes`');

  const documentedSet = new Set(documented);
  const servedSet = new Set(served);
  const undocumented = served.filter((r) => !documentedSet.has(r)).sort();
  const notServed = documented.filter((r) => !servedSet.has(r)).sort();
  assert.deepEqual(
    { undocumented, notServed },
    { undocumented: [], notServed: [] },
    'routes served but not in docs/openapi.yaml (undocumented), or documented but not served (notServed)',
  );
});
