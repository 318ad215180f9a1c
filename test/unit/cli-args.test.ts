// Command-line values that the manager parses: durations and host:port pairs, with errors that name the flag;
// and the help and version every command answers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, parseDuration, stringFlag } from '../../src/cli/args.js';
import { repoRoot } from '../../src/install/package-root.js';
import { MANAGER_FLAGS, parseHostPort } from '../../src/cli/manager.js';

describe('manager flags', () => {
  it('reads durations with a unit, and bare numbers as seconds', () => {
    assert.equal(parseDuration('300', 'trysoft-timeout'), 300_000);
    assert.equal(parseDuration('20s', 'x'), 20_000);
    assert.equal(parseDuration('1.5m', 'x'), 90_000);
    assert.equal(parseDuration('2160h', 'x'), 2160 * 3_600_000);
    assert.equal(parseDuration('30d', 'x'), 30 * 86_400_000);
    assert.equal(parseDuration('250ms', 'x'), 250);
  });

  it('refuses other durations, naming the flag', () => {
    for (const bad of ['', '0', '-5s', '5 weeks', '1h30m', 'soon']) {
      assert.throws(
        () => parseDuration(bad, 'webhook-cert-validity'),
        /--webhook-cert-validity must be a positive duration.*got/,
      );
    }
  });

  it('reads HOST:PORT, with all interfaces for an empty host', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:9443', 'webhook-addr'), { host: '127.0.0.1', port: 9443 });
    assert.deepEqual(parseHostPort(':8081', 'health-addr'), { host: '0.0.0.0', port: 8081 });
    assert.throws(() => parseHostPort('localhost', 'health-addr'), /--health-addr must be HOST:PORT/);
    assert.throws(() => parseHostPort('h:99999', 'health-addr'), /--health-addr must be HOST:PORT/);
  });
});

describe('vmop help and version', () => {
  const vmop = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmop.js'), ...args], { encoding: 'utf8' });

  it("answers --help for each command with that command's usage, and exit code 0", () => {
    for (const [command, flag] of [
      ['manager', '--orphan-grace'],
      ['dev', '--apply-examples'],
      ['manifests', '--check'],
    ] as const) {
      const r = vmop(command, '--help');
      assert.equal(r.status, 0, `${command} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`vmop ${command}`));
      assert.ok(r.stdout.includes(flag), `${command} --help names ${flag}`);
      assert.doesNotMatch(r.stdout, command === 'manager' ? /vmop dev up/ : /vmop manager/, 'only that command');
    }
    const all = vmop('--help');
    assert.equal(all.status, 0);
    for (const command of ['dev up', 'manager', 'manifests', '--version'])
      assert.match(all.stdout, new RegExp(`vmop ${command}`));
  });

  it('prints the package version for --version', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
    const r = vmop('--version');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), `vmop ${pkg.version}`);
  });
});

describe('command flags (node:util parseArgs)', () => {
  const spec = { strings: ['kubeconfig', 'vm-concurrency'], booleans: ['leader-elect'] };
  it('takes --name value, --name=value, boolean flags and positionals', () => {
    const a = parseArgs(['up', '--kubeconfig', 'k.yaml', '--vm-concurrency=16', '--leader-elect'], spec, 'manager');
    assert.deepEqual(a.positional, ['up']);
    assert.equal(stringFlag(a, 'kubeconfig'), 'k.yaml');
    assert.equal(stringFlag(a, 'vm-concurrency'), '16');
    assert.equal(a.flags.get('leader-elect'), true);
  });
  it('refuses an unknown flag, a missing value and a value for a boolean, naming the flag', () => {
    assert.throws(
      () => parseArgs(['--kubeconfg', 'x'], spec, 'manager'),
      /unknown flag --kubeconfg for `vmop manager`/,
    );
    assert.throws(
      () => parseArgs(['--kubeconfig'], spec, 'manager'),
      /flag --kubeconfig of `vmop manager` needs a value/,
    );
    assert.throws(
      () => parseArgs(['--leader-elect=yes'], spec, 'manager'),
      /--leader-elect' does not take an argument/,
    );
  });
});

describe('vmop manager documents every flag', () => {
  it('in its --help and in the README', () => {
    const help = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmop.js'), 'manager', '--help'], {
      encoding: 'utf8',
    }).stdout;
    const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
    for (const flag of [...MANAGER_FLAGS.booleans, ...MANAGER_FLAGS.strings]) {
      assert.ok(help.includes(`--${flag}`), `--${flag} is in vmop manager --help`);
      assert.ok(readme.includes(`--${flag}`), `--${flag} is in the README`);
    }
    for (const env of [
      'VMOP_LOG_LEVEL',
      'POD_NAMESPACE',
      'PRIVILEGED_USERS',
      'VMOP_SERVICE_ACCOUNT',
      'VMOP_ORPHAN_GRACE',
      'VMOP_VM_SELECTOR',
    ]) {
      assert.ok(help.includes(env), `${env} is in vmop manager --help`);
      assert.ok(readme.includes(env), `${env} is in the README`);
    }
  });
});
