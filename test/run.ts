// `npm test`: starts one local ground (etcd, kube-apiserver, vcsim on free loopback ports, CRDs and the
// spec's examples seeded) for the whole run, runs every unit and integration test file with node's test
// runner against it, then stops the ground. Node 20's runner has no global setup, so this wraps it.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGround, stopGround } from '../src/devenv/ground.js';
import { installWebhooks, startOperator, stopOperator } from '../src/devenv/operator.js';
import { freePorts } from '../src/devenv/processes.js';
import { applyObjects, exampleObjects, installCRDs, kubeConfigFrom, seedContentLibrary } from '../src/devenv/seed.js';
import { KubeClient } from '../src/runtime/kube-client.js';
import { GROUND_ENV, WEBHOOK_PREFIX } from './support/ground.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-test-'));
  const [etcd, etcdPeer, apiserver, vcsim, health, webhook] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const t0 = Date.now();
  console.log(`test ground: starting in ${dir} (builds missing tools first; the first run takes minutes)`);
  let code = 1;
  try {
    const ground = await startGround({
      dir,
      ports: { etcd, etcdPeer, apiserver, vcsim },
      progress: (line) => console.log(`test ground: ${line}`),
    });
    const client = new KubeClient(kubeConfigFrom(ground.kubeconfig, 'admin'));
    await installCRDs(client);
    await startOperator({
      dir,
      kubeconfig: ground.kubeconfig,
      context: 'admin',
      healthPort: health,
      webhookPort: webhook,
    });
    await installWebhooks(client, WEBHOOK_PREFIX, dir, webhook);
    await applyObjects(client, exampleObjects());
    client.close();
    await seedContentLibrary({ govc: ground.tools.govc, url: ground.govcURL });
    const stateFile = path.join(dir, 'ground.json');
    await writeFile(stateFile, JSON.stringify({ ...ground, managerHealthPort: health, webhookPort: webhook }, null, 2));
    console.log(`test ground: ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);

    const files = process.argv.slice(2);
    const targets = files.length > 0 ? files : [path.join(here, 'unit'), path.join(here, 'integration')];
    code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...targets], {
        stdio: 'inherit',
        env: { ...process.env, [GROUND_ENV]: stateFile },
      });
      child.on('close', (c) => resolve(c ?? 1));
    });
  } finally {
    await stopOperator(dir);
    await stopGround(dir);
    if (code === 0 || process.env.CI) await rm(dir, { recursive: true, force: true });
    else console.log(`test ground: kept ${dir} for inspection (logs/ has each component's log)`);
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('test ground failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
