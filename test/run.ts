// `npm test`: starts one local environment (etcd, kube-apiserver, vcsim and the manager with its webhooks,
// on free loopback ports) for the whole run, runs every unit and integration test file with node's test
// runner against it, then stops it. Node 20's runner has no global setup, so this wraps it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSession } from '../src/devenv/session.js';
import { GROUND_ENV, WEBHOOK_PREFIX } from './support/ground.js';
import { MANAGER_NAME } from '../src/install/rbac.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * Integration test files that run alone, after the others: the ones that load vcsim and the shared manager
 * hardest (50 creates under manager kills; 100 VMs at once), which would starve the timing of the tests
 * beside them (power transitions, drift correction) and can deadlock vcsim; and `npm start` on a fresh copy,
 * whose install and build take both cores for a minute.
 */
const SOLO = ['vm-crash.test.js', 'vm-ipam.test.js', 'fresh-clone.test.js'];

async function main(): Promise<number> {
  const t0 = Date.now();
  // VMs labelled vmop.test/manager belong to managers that tests start themselves (leader election, crashes,
  // vCenter outages); the shared manager leaves them alone.
  process.env.VMOP_VM_SELECTOR = '!vmop.test/manager';
  // Orphaned vSphere VMs (their objects removed by force) go after 10 s, so the tenant test can see it.
  process.env.VMOP_ORPHAN_GRACE = '10s';
  // The rbac test's manager runs as the operator's ServiceAccount; the shared manager's webhooks (which see
  // every VM too) must let it remove its finalizer, as the single manager of a real install would.
  process.env.PRIVILEGED_USERS = `system:serviceaccount:vmop-system:${MANAGER_NAME}`;
  console.log('test ground: starting (builds missing tools first; the first run takes minutes)');
  const session = await startSession({
    prefix: 'vmop-test',
    webhookPrefix: WEBHOOK_PREFIX,
    progress: (line) => console.log(`test ground: ${line}`),
  });
  // Only the shared manager collects orphans that soon: a manager a test starts from the bin (leader election,
  // manifests settings) would otherwise race it for the tenant test's orphan, which counts them there.
  delete process.env.VMOP_ORPHAN_GRACE;
  let code = 1;
  let runner: ChildProcess | undefined;
  // Ctrl-C or a CI timeout must not leave the test runner, etcd, kube-apiserver, vcsim or the manager running.
  const onSignal = (sig: NodeJS.Signals) => {
    console.log(`test ground: ${sig}; stopping the tests and the ground`);
    runner?.kill(sig);
    void session.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const stateFile = path.join(session.dir, 'ground.json');
    const state = { ...session.ground, managerHealthPort: session.managerHealthPort, webhookPort: session.webhookPort };
    await writeFile(stateFile, JSON.stringify(state, null, 2));
    console.log(`test ground: ready in ${((Date.now() - t0) / 1000).toFixed(1)}s in ${session.dir}`);

    const run = (targets: string[], concurrency: number) =>
      new Promise<number>((resolve) => {
        const child = (runner = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...targets], {
          stdio: 'inherit',
          env: { ...process.env, [GROUND_ENV]: stateFile },
        }));
        child.on('close', (c) => resolve(c ?? 1));
      });
    const files = process.argv.slice(2);
    if (files.length > 0) code = await run(files, 2);
    else {
      // Two files at a time, then the heaviest ones alone (see SOLO).
      const all = async (dir: string) =>
        (await readdir(path.join(here, dir))).filter((f) => f.endsWith('.test.js')).map((f) => path.join(here, dir, f));
      const integration = await all('integration');
      const solo = integration.filter((f) => SOLO.includes(path.basename(f)));
      code = await run([...(await all('unit')), ...integration.filter((f) => !solo.includes(f))], 2);
      if (code === 0) code = await run(solo, 1);
    }
  } finally {
    const keep = code !== 0 && !process.env.CI;
    await session.stop({ keep });
    if (keep) console.log(`test ground: kept ${session.dir} for inspection (logs/ has each component's log)`);
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
