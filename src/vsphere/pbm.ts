// Storage policies over PBM's own SOAP endpoint (/pbm, namespace urn:pbm), riding on the vim25 session:
// list the requirement profiles, and ask which datastores satisfy one.
import { decodeResponse, encodeRequest, type VimClient } from './client.js';
import { VimTransportError } from './faults.js';
import { escapeXML } from './xml.js';
import { moRef, type MoRef } from './vim25/codec.js';

export interface StorageProfile {
  id: string;
  name: string;
  description?: string;
}

interface PbmContent {
  profileManager: MoRef;
  placementSolver: MoRef;
}

export class PbmClient {
  private content?: PbmContent;

  constructor(private readonly vim: VimClient) {}

  async call<T>(method: string, self: MoRef, args: Record<string, unknown> = {}): Promise<T> {
    const cookie = this.vim.sessionCookie;
    const header = cookie ? `<vcSessionCookie>${escapeXML(cookie.replace(/^"|"$/g, ''))}</vcSessionCookie>` : '';
    const res = await this.vim.transport.request('POST', '/pbm', {
      body: encodeRequest(method, self, args, 'urn:pbm', header),
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: 'urn:pbm/2.0' },
    });
    if (res.status !== 200 && res.status !== 500)
      throw new VimTransportError(`${method}: HTTP ${res.status} from /pbm`, `HTTP_${res.status}`);
    return decodeResponse(method, res.body) as T;
  }

  private async serviceContent(): Promise<PbmContent> {
    this.content ??= await this.call<PbmContent>(
      'PbmRetrieveServiceContent',
      moRef('PbmServiceInstance', 'ServiceInstance'),
    );
    return this.content;
  }

  /** The storage requirement profiles (policies), with their names. */
  async profiles(): Promise<StorageProfile[]> {
    const { profileManager } = await this.serviceContent();
    const ids = await this.call<{ uniqueId: string }[]>('PbmQueryProfile', profileManager, {
      resourceType: { _typeName: 'PbmProfileResourceType', resourceType: 'STORAGE' },
      profileCategory: 'REQUIREMENT',
    });
    if (ids.length === 0) return [];
    const profiles = await this.call<{ profileId: { uniqueId: string }; name: string; description?: string }[]>(
      'PbmRetrieveContent',
      profileManager,
      {
        profileIds: ids.map((id) => ({ _typeName: 'PbmProfileId', uniqueId: id.uniqueId })),
      },
    );
    return profiles.map((p) => ({ id: p.profileId.uniqueId, name: p.name, description: p.description }));
  }

  /** The datastores (managed object IDs) that satisfy a profile, optionally among `candidates`. */
  async matchingDatastores(profileId: string, candidates?: string[]): Promise<string[]> {
    const { placementSolver } = await this.serviceContent();
    const results = await this.call<{ hub: { hubType: string; hubId: string }; error?: unknown[] }[]>(
      'PbmCheckCompatibility',
      placementSolver,
      {
        hubsToSearch: candidates?.map((id) => ({ _typeName: 'PbmPlacementHub', hubType: 'Datastore', hubId: id })),
        profile: { _typeName: 'PbmProfileId', uniqueId: profileId },
      },
    );
    // A hub is compatible when the check reports no error for it.
    return results.filter((r) => r.hub.hubType === 'Datastore' && !r.error?.length).map((r) => r.hub.hubId);
  }
}
