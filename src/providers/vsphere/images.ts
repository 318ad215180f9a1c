// The image side of the vSphere provider: content library items with the details of their OVF, read
// through the vAPI REST endpoint; an item whose content version is already mirrored is not downloaded.
import type { ImageProvider, LibraryImage } from '../interface.js';
import type { Credentials, VSphereSession } from './session.js';
import type { ProviderConfig } from './config.js';
import { parseOVF } from './ovf.js';

export type ConfigSource = () => Promise<{ config: ProviderConfig; credentials: Credentials }>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class VSphereImageProvider implements ImageProvider {
  constructor(
    private readonly session: VSphereSession,
    private readonly source: ConfigSource,
  ) {}

  async listLibraryImages(library: string, known: ReadonlyMap<string, string>): Promise<LibraryImage[]> {
    const { config, credentials } = await this.source();
    const { rest } = await this.session.connect(config, credentials);
    const libraryID = UUID.test(library) ? library : await rest.findLibrary(library);
    if (!libraryID) throw new Error(`content library "${library}" does not exist in ${config.vcenter}`);
    const out: LibraryImage[] = [];
    for (const id of await rest.listItems(libraryID)) {
      const item = await rest.getItem(id);
      const image: LibraryImage = {
        itemID: item.id,
        libraryID,
        name: item.name,
        type: (item.type ?? 'ovf').toUpperCase(),
        contentVersion: item.content_version,
      };
      if (image.type === 'OVF' && known.get(item.id) !== item.content_version) {
        const files = await rest.listFiles(item.id);
        const ovf = files.find((f) => f.name.endsWith('.ovf'));
        if (ovf) image.details = parseOVF(await rest.readItemFile(item.id, ovf.name));
      }
      out.push(image);
    }
    return out;
  }
}
