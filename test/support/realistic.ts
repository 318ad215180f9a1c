// A vCenter of a test's own that is slow and faulty as asked (vmop's vcsim launcher with the realistic profile
// and faults), with the shared ground's inventory and content library, and everything a manager of the test's
// own needs to create VMs there: an operator namespace with a provider configuration pointing at it, and a VM
// namespace whose image (a namespaced VirtualMachineImage) is that vCenter's Photon item.
import type { VcsimProcess } from '../../src/devenv/vcsim.js';
import { VCSIM_INVENTORY } from '../../src/devenv/ground.js';
import { CLUSTER_LIBRARY, govc as govcAt, seedContentLibrary } from '../../src/devenv/seed.js';
import { client, ground } from './ground.js';
import { ownOperatorNamespace, OWN_MANAGER_LABEL, startOwnManager, type OwnManager } from './manager.js';
import { scrape } from './metrics.js';
import { startOwnVcsim } from './vcsim.js';
import { readyImage, vm, vmNamespace, type VMObject } from './vms.js';

/** The image name of the own vCenter's Photon item in the test's VM namespace. */
export const OWN_IMAGE = 'photon-own-vcenter';

export interface OwnVCenter {
  sim: VcsimProcess;
  /** The VM namespace (class, storage class and image ready). */
  ns: string;
  /** The operator namespace of the test's managers (provider configuration for this vCenter). */
  opNS: string;
  /** govc against this vCenter. */
  govc(args: string[]): Promise<string>;
  /** A manager of the test's own for VMs labelled with `id` (default: the VM namespace). */
  manager(id?: string, extraArgs?: string[]): Promise<OwnManager>;
  /** A VM for the manager `id` (default: the VM namespace), from this vCenter's image. */
  vm(name: string, spec?: Record<string, unknown>, id?: string): VMObject;
  /** The names of the vSphere VMs in the VM namespace's folder. */
  vmNames(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function ownVCenter(prefix: string, flags: string[]): Promise<OwnVCenter> {
  const g = ground();
  const sim = await startOwnVcsim([...VCSIM_INVENTORY, ...flags]);
  const url = new URL(sim.url);
  url.username = g.vcsimUser;
  url.password = g.vcsimPassword;
  const target = { govc: g.tools.govc, url: url.toString() };
  const govc = (args: string[]) => govcAt(target, args);
  const c = client();
  const managers: OwnManager[] = [];
  try {
    await seedContentLibrary(target);
    const [item] = JSON.parse(await govc(['library.info', '-json', `/${CLUSTER_LIBRARY}/photon-5`])) as [
      { id: string },
    ];
    const ns = await vmNamespace(prefix);
    // The shared provider configuration and credentials, pointed at this vCenter.
    const opNS = await ownOperatorNamespace(`${prefix}-op`, { vcenter: new URL(sim.url).origin });
    await readyImage(c, ns, OWN_IMAGE, item!.id, 'photon-5');
    return {
      sim,
      ns,
      opNS,
      govc,
      async manager(id = ns, extraArgs: string[] = []) {
        const m = await startOwnManager({
          id,
          namespace: opNS,
          extraArgs,
          log: !!process.env.VMOP_TEST_MANAGER_LOG,
        });
        managers.push(m);
        return m;
      },
      vm(name, spec = {}, id = ns) {
        return vm(ns, name, { imageName: OWN_IMAGE, ...spec }, { [OWN_MANAGER_LABEL]: id });
      },
      async vmNames() {
        const out = await govc(['ls', `/DC0/vm/${ns}`]).catch(() => '');
        return out
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => l.slice(l.lastIndexOf('/') + 1));
      },
      async stop() {
        await Promise.all(managers.map((m) => m.kill()));
        c.close();
        await sim.stop();
      },
    };
  } catch (err) {
    await Promise.all(managers.map((m) => m.kill()));
    c.close();
    await sim.stop();
    throw err;
  }
}

/** The manager's vSphere operations in flight, by kind (vmop_vsphere_operations_in_flight). */
export async function operationsInFlight(m: OwnManager): Promise<Record<string, number>> {
  const { samples } = await scrape(m.healthPort);
  return Object.fromEntries(
    samples.filter((s) => s.name === 'vmop_vsphere_operations_in_flight').map((s) => [s.labels.kind ?? '', s.value]),
  );
}
