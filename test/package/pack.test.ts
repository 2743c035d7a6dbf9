// What `npm pack` would publish: the launcher, the compiled CLI and library (with its .d.ts), the
// bundled providers, README and LICENSE, and nothing else (no sources, tests, source maps or build caches); every module the
// package imports is in it; and package.json says how to run it (bin, engines).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

interface Packed {
  name: string;
  version: string;
  files: Array<{ path: string; mode: number }>;
}

let packed: Packed;
let files: string[];
beforeAll(async () => {
  // --ignore-scripts: `prepare` (tsc) already ran in `npm test`; the pack list is what matters here.
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot });
  packed = (JSON.parse(stdout) as Packed[])[0]!;
  files = packed.files.map((f) => f.path).sort();
}, 60_000);

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  engines: { node: string };
  files: string[];
  exports?: unknown;
  type: string;
};

describe('the npm package', () => {
  it('holds the launcher, the compiled CLI and library with its types, the providers, README and LICENSE', () => {
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/keygate.js',
      'dist/cli.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/api/types.d.ts',
      'dist/fast-status.js',
      'dist/run/preload.cjs',
      'providers/discord.json',
      'providers/schema.json',
    ]) {
      expect(files).toContain(file);
    }
  });

  it('holds nothing else: no sources, tests, docs, source maps or build caches', () => {
    const stray = files.filter(
      (f) => !/^(package\.json|README\.md|LICENSE|bin\/keygate\.js|providers\/[\w-]+\.json|dist\/.+\.(c?js|d\.c?ts))$/.test(f),
    );
    expect(stray).toEqual([]);
  });

  it('ships only compiled modules that have a source (no stale output of a deleted file)', () => {
    const orphans = files
      .filter((f) => f.startsWith('dist/'))
      .filter((f) => {
        const base = path.join(repoRoot, 'src', f.slice('dist/'.length).replace(/\.(c?js|d\.c?ts)$/, ''));
        return !fs.existsSync(`${base}.ts`) && !fs.existsSync(`${base}.cts`);
      });
    expect(orphans).toEqual([]);
  });

  it('contains every module its code imports by relative path', () => {
    const missing: string[] = [];
    for (const file of files.filter((f) => /\.c?js$/.test(f))) {
      const code = fs.readFileSync(path.join(repoRoot, file), 'utf8');
      for (const [, spec] of code.matchAll(/(?:from\s+|import\(\s*|require\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
        if (!files.includes(target)) missing.push(`${file} -> ${spec}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares every package its code imports (a hoisted transitive dependency is not enough)', () => {
    const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
    const undeclared = new Set<string>();
    for (const file of files.filter((f) => /\.c?js$/.test(f))) {
      const code = fs.readFileSync(path.join(repoRoot, file), 'utf8');
      for (const [, spec] of code.matchAll(/(?:from\s+|import\(\s*|require\(\s*)['"]([^./'"][^'"]*)['"]/g)) {
        if (spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!declared.has(name)) undeclared.add(`${file} -> ${name}`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it('is a library too: `exports` gives the entry with its types, and package.json', () => {
    expect(pkg.exports).toEqual({ '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' });
    for (const target of ['dist/index.d.ts', 'dist/index.js']) expect(files).toContain(target);
  });

  it('runs as `keygate` on Node >= 20.18.1: bin, shebang, executable, engines', () => {
    expect(pkg.bin).toEqual({ keygate: 'bin/keygate.js' });
    expect(pkg.type).toBe('module');
    expect(pkg.engines.node).toBe('>=20.18.1');
    const launcher = packed.files.find((f) => f.path === 'bin/keygate.js')!;
    expect(launcher.mode & 0o111).not.toBe(0);
    expect(fs.readFileSync(path.join(repoRoot, 'bin/keygate.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
