// The DiskProvider on vSphere: First Class Disks created in the first configured zone's cluster, on a
// datastore that the storage policy allows. Used by the local environment's volume provisioner.
import { PbmClient } from '../../vsphere/pbm.js';
import type { DiskInfo, DiskProvider } from '../interface.js';
import { FirstClassDisks } from './disks.js';
import type { ConfigSource } from './images.js';
import { Placement } from './placement.js';
import type { Connection, VSphereSession } from './session.js';

export class VSphereDiskProvider implements DiskProvider {
  private state?: { conn: Connection; placement: Placement; disks: FirstClassDisks };

  constructor(
    private readonly session: VSphereSession,
    private readonly source: ConfigSource,
  ) {}

  private async current(): Promise<{ placement: Placement; disks: FirstClassDisks; zones: string[] }> {
    const { config, credentials } = await this.source();
    const conn = await this.session.connect(config, credentials);
    if (this.state?.conn !== conn) {
      const placement = new Placement(conn.api, new PbmClient(conn.api.client), config);
      this.state = { conn, placement, disks: new FirstClassDisks(conn.api, placement) };
    }
    return { ...this.state, zones: Object.keys(config.zones).sort() };
  }

  async createDisk(name: string, capacityBytes: number, storagePolicyID?: string): Promise<DiskInfo> {
    const { placement, disks, zones } = await this.current();
    if (zones.length === 0) throw new Error('no zones are configured: add "zones" to ConfigMap vmop-provider-config');
    return disks.create(name, capacityBytes, await placement.cluster(zones[0]!), storagePolicyID);
  }

  async deleteDisk(id: string): Promise<void> {
    await (await this.current()).disks.delete(id);
  }

  async disk(id: string): Promise<DiskInfo | undefined> {
    return (await this.current()).disks.disk(id);
  }
}
