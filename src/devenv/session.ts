// A throw-away local environment on free ports in a temporary folder: ground, CRDs, manager with webhooks,
// the spec's examples and vcsim's content library. The test suite and the benchmarks each run one.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startGround, stopGround, type GroundState } from './ground.js';
import { stopOperator } from './operator.js';
import { freePorts } from './processes.js';
import { provision } from './provision.js';
import type { Progress } from './toolchain.js';

export interface Session {
  dir: string;
  ground: GroundState;
  managerHealthPort: number;
  webhookPort: number;
  webhookPrefix: string;
  /** Stops everything; deletes the folder unless `keep`. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

export async function startSession(opts: {
  prefix: string;
  webhookPrefix: string;
  progress?: Progress;
  /** The session manager's controllers (default: all of them). */
  controllers?: string[];
  /** vcsim launcher arguments (a vCenter profile, faults); VMOP_VCSIM_ARGS still go after them. */
  vcsimArgs?: string[];
}): Promise<Session> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${opts.prefix}-`));
  const [etcd, etcdPeer, apiserver, vcsim, health, webhook] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // One stop for everyone: a signal handler and a finally block may both ask, and must wait for the same one.
  let stopping: Promise<void> | undefined;
  const stop = (o: { keep?: boolean } = {}) =>
    (stopping ??= (async () => {
      await stopOperator(dir);
      await stopGround(dir);
      if (!o.keep) await rm(dir, { recursive: true, force: true });
    })());
  try {
    const ground = await startGround({
      dir,
      ports: { etcd, etcdPeer, apiserver, vcsim },
      progress: opts.progress,
      vcsimArgs: opts.vcsimArgs,
    });
    await provision({
      ground,
      dir,
      kubeconfig: ground.kubeconfig,
      context: 'admin',
      healthPort: health,
      webhookPort: webhook,
      webhookPrefix: opts.webhookPrefix,
      volumeProvisioner: true,
      controllers: opts.controllers,
    });
    return { dir, ground, managerHealthPort: health, webhookPort: webhook, webhookPrefix: opts.webhookPrefix, stop };
  } catch (err) {
    await stop({ keep: true });
    throw err;
  }
}
