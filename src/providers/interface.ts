// What controllers may ask of a VM provider. Controllers see only this interface; providers/vsphere
// implements it with the vSphere client.

export interface ImageDetails {
  osType?: string;
  osID?: string;
  osDescription?: string;
  osVersion?: string;
  hardwareVersion?: number;
  firmware?: string;
  product?: { product?: string; vendor?: string; version?: string; fullVersion?: string };
  properties: { key: string; type: string; default?: string; userConfigurable: boolean }[];
  capabilities: string[];
  diskCapacityBytes?: number;
}

export interface LibraryImage {
  itemID: string;
  libraryID: string;
  name: string;
  /** OVF or ISO. */
  type: string;
  contentVersion?: string;
  /** Read from the item's OVF; left out when `known` says the content version did not change. */
  details?: ImageDetails;
}

export interface ImageProvider {
  /**
   * The items of a content library (by name or ID). `known` maps item IDs to the content version already
   * mirrored, so unchanged items are not downloaded again.
   */
  listLibraryImages(library: string, known: ReadonlyMap<string, string>): Promise<LibraryImage[]>;
}
