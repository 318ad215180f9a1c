#!/usr/bin/env node
// Run by npm before `npm start` and `npm test` (prestart, pretest): installs the locked dependencies when
// node_modules is missing or was installed from another package-lock.json, so both commands work verbatim on
// a fresh clone. Node built-ins only: nothing else is installed yet when it runs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const lock = path.join(root, 'package-lock.json');
const stamp = path.join(root, 'node_modules', '.vmop-lock-sha256');
const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;

if (have !== want) {
  console.log(
    have === undefined
      ? 'vmop: installing the locked dependencies (npm ci), first run only …'
      : 'vmop: package-lock.json changed since the last install; reinstalling (npm ci) …',
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('vmop: npm ci failed (see above); fix that, then run the command again');
    process.exit(r.status ?? 1);
  }
  writeFileSync(stamp, `${want}\n`);
}
