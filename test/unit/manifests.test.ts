// config/crd/ must be exactly what the code generates; `vmop manifests --check` fails when it is not.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { renderCRDs, staleCRDs } from '../../src/crd/render.js';
import { repoRoot } from '../../src/devenv/toolchain.js';

const run = promisify(execFile);
const crdDir = path.join(repoRoot(), 'config', 'crd');

describe('generated CRD manifests', () => {
  it('config/crd/ is up to date with src/api (run `npm run manifests` if this fails)', async () => {
    assert.deepEqual(await staleCRDs(crdDir), []);
  });

  it('detects a hand-edited CRD file and a missing one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-crd-'));
    await cp(crdDir, dir, { recursive: true });
    const vmFile = path.join(dir, 'virtualmachines.vmoperator.vmware.com.yaml');
    await writeFile(
      vmFile,
      (await readFile(vmFile, 'utf8')).replace('shortNames:\n      - vm', 'shortNames:\n      - v'),
    );
    await writeFile(path.join(dir, 'virtualmachineclasses.vmoperator.vmware.com.yaml'), '');
    assert.deepEqual((await staleCRDs(dir)).sort(), [
      'virtualmachineclasses.vmoperator.vmware.com.yaml',
      'virtualmachines.vmoperator.vmware.com.yaml',
    ]);
  });

  it('renders one file per kind with the v1alpha3 version served and stored', () => {
    const files = renderCRDs();
    assert.deepEqual([...files.keys()].sort(), [
      'clustervirtualmachineimages.vmoperator.vmware.com.yaml',
      'virtualmachineclasses.vmoperator.vmware.com.yaml',
      'virtualmachineimages.vmoperator.vmware.com.yaml',
      'virtualmachines.vmoperator.vmware.com.yaml',
    ]);
    for (const text of files.values()) assert.match(text, /- name: v1alpha3\n\s+served: true\n\s+storage: true/);
  });

  it('`vmop manifests --check` exits 0 on the committed files', async () => {
    const { stdout, stderr } = await run(process.execPath, [
      path.join(repoRoot(), 'bin', 'vmop.js'),
      'manifests',
      '--check',
    ]);
    assert.equal(stdout + stderr, '');
  });
});
