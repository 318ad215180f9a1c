// What ships: `npm pack` carries the command, the built sources and the manifests but no tests, and the
// container recipe is well formed and starts the same entry point that runs here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { repoRoot } from '../../src/devenv/toolchain.js';

const run = promisify(execFile);
const INSTRUCTIONS = new Set([
  'FROM',
  'WORKDIR',
  'COPY',
  'RUN',
  'ENV',
  'USER',
  'ENTRYPOINT',
  'CMD',
  'ARG',
  'LABEL',
  'EXPOSE',
]);

describe('packaging', () => {
  it('npm pack carries bin, dist/src and the manifests, and no tests', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot() });
    const files = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    for (const f of [
      'bin/vmop.js',
      'dist/src/cli/main.js',
      'config/crd/virtualmachines.vmoperator.vmware.com.yaml',
      'config/rbac/rbac.yaml',
      'config/manager/manager.yaml',
      'LICENSE',
    ])
      assert.ok(files.has(f), `${f} is packed`);
    assert.deepEqual(
      [...files].filter((f) => f.startsWith('dist/test') || f.startsWith('test/') || f.startsWith('src/')),
      [],
    );
  });

  it('carries the license package.json names, and depends on nothing it does not import', async () => {
    const pkg = JSON.parse(await readFile(path.join(repoRoot(), 'package.json'), 'utf8')) as {
      license: string;
      dependencies: Record<string, string>;
    };
    assert.equal(pkg.license, 'Apache-2.0');
    assert.match(
      await readFile(path.join(repoRoot(), 'LICENSE'), 'utf8'),
      /^Apache License\s+Version 2\.0, January 2004/,
    );
    const sources = await readdirRecursive(path.join(repoRoot(), 'src'));
    const text = (await Promise.all(sources.map((f) => readFile(f, 'utf8')))).join('\n');
    for (const dep of Object.keys(pkg.dependencies)) {
      assert.ok(text.includes(`from '${dep}`), `dependency ${dep} is imported by src/`);
    }
  });

  it('the Dockerfile is well formed, runs as non-root, and its entry point starts here', async () => {
    const text = await readFile(path.join(repoRoot(), 'Dockerfile'), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    for (const l of lines) assert.ok(INSTRUCTIONS.has(l.split(' ')[0]!), `unknown instruction: ${l}`);
    assert.equal(lines.filter((l) => l.startsWith('FROM ')).length, 2, 'a build stage and a runtime stage');
    assert.match(text, /^USER 65532:65532$/m);
    const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(text)![1]!) as string[];
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(text)![1]!) as string[];
    assert.deepEqual(entrypoint, ['node', '/app/bin/vmop.js']);
    assert.deepEqual(cmd, ['manager']);
    // The image's /app is this checkout's layout: the same entry point answers here.
    const local = entrypoint[1]!.replace('/app/', `${repoRoot()}/`);
    const { stdout } = await run(process.execPath, [local, 'help']);
    assert.match(stdout, /manager/);
  });
});

async function readdirRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await readdirRecursive(p)));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}
