#!/usr/bin/env node
// Writes the CycloneDX 1.5 JSON SBOM of the container image scripts/image.sh
// builds: the binary itself, and for every file the image copies in from the
// build machine (each shared object ldd resolves, the CA bundle) the Debian
// package that owns it, with its version and a package URL (purl).
//
//   node scripts/sbom.mjs [BUILD_DIR] > emporium.cdx.json
//
// Fails when a copied file belongs to no Debian package (the SBOM would be
// incomplete). Needs dpkg, ldd and the built binary.
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = path.resolve(root, process.argv[2] ?? 'build');
const binary = path.join(build, 'emporium');
const sh = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// The same list scripts/image.sh copies.
export function imageFiles(bin) {
  const files = [];
  for (const line of sh('ldd', [bin]).split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[1] === '=>' && parts[2]?.startsWith('/')) files.push(parts[2]);
    else if (parts[0]?.startsWith('/')) files.push(parts[0]);
    else if (parts[1] === '=>' && parts[2] === 'not') throw new Error(`unresolved library ${parts[0]}`);
  }
  files.push('/etc/ssl/certs/ca-certificates.crt');
  return files;
}

// dpkg -S knows the path a package installed, which may be the symlink or
// the file behind it, under /lib or /usr/lib (merged /usr).
// The CA bundle is not in any package's file list: the ca-certificates
// package generates it (update-ca-certificates) from the certificates it ships.
const GENERATED = { '/etc/ssl/certs/ca-certificates.crt': 'ca-certificates' };

function owner(file) {
  if (GENERATED[file]) return GENERATED[file];
  const candidates = new Set([file, realpathSync(file)]);
  for (const c of [...candidates]) {
    if (c.startsWith('/usr/')) candidates.add(c.slice(4));
    else candidates.add(`/usr${c}`);
  }
  for (const c of candidates) {
    try {
      const out = sh('dpkg-query', ['-S', c]).split('\n')[0];
      return out.slice(0, out.indexOf(': ')).split(',')[0].trim();
    } catch {
      // not this path
    }
  }
  return null;
}

export function sbom(bin) {
  const version = sh(bin, ['version']).trim().split(/\s+/)[1];
  const arch = sh('dpkg', ['--print-architecture']).trim();
  const packages = new Map();
  const orphans = [];
  for (const file of imageFiles(bin)) {
    const pkg = owner(file);
    if (!pkg) {
      orphans.push(file);
      continue;
    }
    const [name, pkgArch] = pkg.split(':');
    if (!packages.has(pkg)) {
      const v = sh('dpkg-query', ['-W', '-f', '${Version}', pkg]).trim();
      const a = pkgArch ?? (sh('dpkg-query', ['-W', '-f', '${Architecture}', pkg]).trim() || arch);
      packages.set(pkg, { name, version: v, arch: a, files: [] });
    }
    packages.get(pkg).files.push(file);
  }
  if (orphans.length) throw new Error(`no Debian package owns: ${orphans.join(', ')}`);
  const components = [...packages.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      type: 'library',
      'bom-ref': `pkg:deb/debian/${p.name}@${encodeURIComponent(p.version)}?arch=${p.arch}&distro=debian-12`,
      name: p.name,
      version: p.version,
      purl: `pkg:deb/debian/${p.name}@${encodeURIComponent(p.version)}?arch=${p.arch}&distro=debian-12`,
      properties: p.files.map((f) => ({ name: 'emporium:image-path', value: f })),
    }));
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: new Date().toISOString(),
      component: { type: 'container', name: 'emporium', version, 'bom-ref': `emporium@${version}` },
    },
    components: [{ type: 'application', name: 'emporium', version, 'bom-ref': `emporium-binary@${version}` }, ...components],
    dependencies: [{ ref: `emporium@${version}`, dependsOn: [`emporium-binary@${version}`, ...components.map((c) => c['bom-ref'])] }],
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(sbom(binary), null, 2)}\n`);
}
