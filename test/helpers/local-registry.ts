// A throw-away npm registry on 127.0.0.1 serving the project's production dependencies from the checkout's
// node_modules, so `npm install -g <tarball>` runs as it does for a user but with no network. Each package is packed
// here (tar, as `npm pack` lays it out: everything under package/) and described by a minimal packument.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface LocalRegistry {
  readonly url: string;
  /** name@version of every package served. */
  readonly served: string[];
  /** Every path npm asked for (to prove which packages it resolved). */
  readonly requests: string[];
  close(): Promise<void>;
}

interface LockEntry { name?: string; version?: string; dev?: boolean; link?: boolean }

interface Served { manifest: Record<string, unknown>; tarball: Buffer }

/** Serves every production package of package-lock.json found in projectDir/node_modules, except `leaveOut`. */
export async function startLocalRegistry(projectDir: string, workDir: string, leaveOut: readonly string[] = []): Promise<LocalRegistry> {
  const lock = JSON.parse(readFileSync(join(projectDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packuments = new Map<string, Map<string, Served>>();
  mkdirSync(workDir, { recursive: true });
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || entry.dev || entry.link) continue;
    const dir = join(projectDir, key);
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      continue; // an optional package for another platform, never installed here
    }
    const name = String(manifest.name);
    const version = String(manifest.version);
    if (leaveOut.includes(name)) continue;
    const versions = packuments.get(name) ?? new Map<string, Served>();
    packuments.set(name, versions);
    if (versions.has(version)) continue;
    versions.set(version, { manifest, tarball: packDirectory(dir, join(workDir, `${name.replace('/', '__')}-${version}.tgz`)) });
  }

  const requests: string[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(path);
    const tarballMatch = /^\/-\/tarball\/(.+)\/([^/]+)\.tgz$/.exec(path);
    if (tarballMatch) {
      const served = packuments.get(tarballMatch[1]!)?.get(tarballMatch[2]!);
      if (!served) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': served.tarball.length });
      return void res.end(served.tarball);
    }
    const versions = packuments.get(path.slice(1));
    if (!versions) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end('{"error":"not found"}');
    }
    const name = path.slice(1);
    const body = {
      name,
      'dist-tags': { latest: [...versions.keys()].at(-1) },
      versions: Object.fromEntries([...versions].map(([version, { manifest, tarball }]) => [version, {
        ...pick(manifest, ['name', 'version', 'dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines', 'os', 'cpu']),
        dist: {
          tarball: `${base}/-/tarball/${name}/${version}.tgz`,
          integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
          shasum: createHash('sha1').update(tarball).digest('hex'),
        },
      }])),
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    served: [...packuments].flatMap(([name, versions]) => [...versions.keys()].map((v) => `${name}@${v}`)),
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A .tgz of dir laid out as `npm pack` does (package/…), without nested node_modules or build output. */
function packDirectory(dir: string, out: string): Buffer {
  execFileSync('tar', ['-czf', out, '--exclude=./node_modules', '--exclude=./build', '--transform', `s,^\\.,package,`, '-C', dir, '.'], { stdio: 'pipe' });
  return readFileSync(out);
}

function pick(object: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => object[k] !== undefined).map((k) => [k, object[k]]));
}
