// The README's first command, verbatim, where a newcomer runs it: a copy of this checkout's files as git sees
// them (no node_modules, no dist) where `npm start` alone installs the locked dependencies, builds, and brings
// up a local environment of its own with the example VM powered on. Before that, the command line in the
// unbuilt copy says what to run instead of a stack trace. (`npm test`, the other command, is what CI runs on a
// fresh clone.)
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePorts } from '../../src/devenv/processes.js';
import { repoRoot } from '../../src/devenv/toolchain.js';

const run = promisify(execFile);

/** Copies the files git tracks or would track (not ignored) from `from` into `to`. */
async function copyCheckout(from: string, to: string): Promise<number> {
  const { stdout } = await run('git', ['-C', from, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  let copied = 0;
  for (const file of new Set(stdout.split('\0').filter(Boolean))) {
    const src = path.join(from, file);
    // A tracked file deleted in the working tree is not part of what a commit of it would hold.
    if (!(await stat(src).catch(() => undefined))?.isFile()) continue;
    await mkdir(path.dirname(path.join(to, file)), { recursive: true });
    await copyFile(src, path.join(to, file));
    copied++;
  }
  return copied;
}

/**
 * The environment of a newcomer's shell: none of npm's or the test run's own settings (the tool cache's
 * location stays: the tools are the same, and building them again would only take minutes).
 */
function newcomerEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k !== 'VMOP_CACHE' && /^(npm_|VMOP_|PRIVILEGED_USERS$|NODE_TEST_CONTEXT$|NODE_OPTIONS$)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end; its exit code and everything it printed, in order. */
function runAll(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
  });
}

describe('a fresh checkout', () => {
  let dir: string | undefined;
  let env: NodeJS.ProcessEnv = {};
  after(async () => {
    if (!dir) return;
    // The copy has been built by then (or never got that far: down has nothing to stop).
    await runAll(process.execPath, ['bin/vmop.js', 'dev', 'down', '--purge'], path.join(dir, 'repo'), env, 120_000);
    await rm(dir, { recursive: true, force: true });
  });

  it('npm start alone installs, builds and brings up the example VM powered on', { timeout: 1_200_000 }, async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-fresh-'));
    const repo = path.join(dir, 'repo');
    assert.ok((await copyCheckout(repoRoot(), repo)) > 100, 'the checkout has its files');
    const ports = await freePorts(6);
    env = newcomerEnv({ VMOP_DEV_DIR: path.join(dir, 'dev'), VMOP_DEV_PORTS: ports.join(',') });

    const unbuilt = await runAll(process.execPath, ['bin/vmop.js', '--version'], repo, env, 60_000);
    assert.equal(unbuilt.code, 1, unbuilt.out);
    assert.match(unbuilt.out, /this checkout is not built yet .*`npm start` and `npm test` do both/s);
    assert.doesNotMatch(unbuilt.out, /ERR_MODULE_NOT_FOUND|\n\s+at /);

    const start = await runAll('npm', ['start'], repo, env, 1_100_000);
    assert.equal(start.code, 0, start.out.slice(-4000));
    assert.match(start.out, /installing the locked dependencies \(npm ci\)/);
    assert.match(
      start.out,
      /NAME\s+POWER-STATE\s+CLASS\s+IMAGE\s+PRIMARY-IP4\s+AGE\nmy-vm\s+PoweredOn\s+my-vm-class\s+vmi-/,
      start.out.slice(-4000),
    );
    assert.match(start.out, /govc vm\.info -vm\.uuid .*\nName:\s+my-vm\n/);
    assert.match(start.out, /Power state:\s+poweredOn/);

    // A second npm start finds the dependencies installed and the environment up: nothing is reinstalled.
    const again = await runAll('npm', ['start'], repo, env, 600_000);
    assert.equal(again.code, 0, again.out.slice(-4000));
    assert.doesNotMatch(again.out, /installing the locked dependencies|reinstalling/);
    assert.doesNotMatch(again.out, /started (etcd|kube-apiserver|vcsim|manager)/);
  });
});
