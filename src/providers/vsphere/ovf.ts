// Reads what a VirtualMachineImage reports from an OVF descriptor: guest OS, hardware version, firmware,
// product information, user-configurable properties and the capabilities property VM Operator defines.
import { parseXML, type XMLElement } from '../../vsphere/xml.js';
import type { ImageDetails } from '../interface.js';

export type OVFInfo = ImageDetails;

function find(el: XMLElement, local: string): XMLElement | undefined {
  if (el.local === local) return el;
  for (const c of el.children) {
    const f = find(c, local);
    if (f) return f;
  }
  return undefined;
}

function findAll(el: XMLElement, local: string, out: XMLElement[] = []): XMLElement[] {
  if (el.local === local) out.push(el);
  for (const c of el.children) findAll(c, local, out);
  return out;
}

function attr(el: XMLElement, local: string): string | undefined {
  for (const [k, v] of Object.entries(el.attrs)) if (k === local || k.endsWith(`:${local}`)) return v;
  return undefined;
}

const CAPABILITIES_KEY = 'capabilities.image.vmoperator.vmware.com';

export function parseOVF(text: string): OVFInfo {
  const root = parseXML(text, { maxBytes: 16 * 1024 * 1024, maxDepth: 64 });
  const info: OVFInfo = { properties: [], capabilities: [], disks: [] };
  const os = find(root, 'OperatingSystemSection');
  if (os) {
    info.osType = attr(os, 'osType');
    info.osID = attr(os, 'id');
    info.osDescription = os.children.find((c) => c.local === 'Description')?.text;
    info.osVersion = attr(os, 'osVersion');
  }
  const system = find(root, 'VirtualSystemType');
  const vmx = /vmx-(\d+)/.exec(system?.text ?? '');
  if (vmx) info.hardwareVersion = Number(vmx[1]);
  for (const cfg of findAll(root, 'Config')) {
    if (attr(cfg, 'key') === 'firmware')
      info.firmware = attr(cfg, 'value')?.toUpperCase() === 'EFI' ? 'efi' : attr(cfg, 'value');
  }
  const product = find(root, 'ProductSection');
  if (product) {
    const text = (n: string) => product.children.find((c) => c.local === n)?.text || undefined;
    info.product = {
      product: text('Product'),
      vendor: text('Vendor'),
      version: text('Version'),
      fullVersion: text('FullVersion'),
    };
    for (const p of product.children.filter((c) => c.local === 'Property')) {
      const key = attr(p, 'key') ?? '';
      const value = attr(p, 'value');
      if (key === CAPABILITIES_KEY) {
        info.capabilities = (value ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        continue;
      }
      info.properties.push({
        key,
        type: attr(p, 'type') ?? 'string',
        default: value,
        userConfigurable: attr(p, 'userConfigurable') === 'true',
      });
    }
  }
  // Each disk is named as its hardware item labels it ("Hard Disk 1"), else by its disk ID; a repeated name gets
  // a suffix (_1, _2, …), so the names key the list as VM Operator's image status does.
  const labels = new Map<string, string>();
  for (const item of findAll(root, 'Item')) {
    const host = item.children.find((c) => c.local === 'HostResource')?.text ?? '';
    const id = /^ovf:\/disk\/(.+)$/.exec(host.trim())?.[1];
    const label = item.children.find((c) => c.local === 'ElementName')?.text?.trim();
    if (id && label) labels.set(id, label);
  }
  const used = new Map<string, number>();
  for (const d of findAll(root, 'Disk')) {
    const id = attr(d, 'diskId') ?? '';
    let name = labels.get(id) || id || 'disk';
    const seen = used.get(name);
    used.set(name, (seen ?? -1) + 1);
    if (seen !== undefined) name = `${name}_${seen + 1}`;
    info.disks.push({
      name,
      capacityBytes: Number(attr(d, 'capacity') ?? 0) * unitOf(attr(d, 'capacityAllocationUnits')),
    });
  }
  return info;
}

/** OVF allocation units such as "byte * 2^30". */
function unitOf(units: string | undefined): number {
  const m = /2\^(\d+)/.exec(units ?? '');
  return m ? 2 ** Number(m[1]) : 1;
}
