// Parsing the provider configuration and the OVF descriptors vmop ships.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../src/devenv/toolchain.js';
import { parseLibraryBindings } from '../../src/controllers/virtualmachineimage/library-bindings.js';
import { parseProviderConfig } from '../../src/providers/vsphere/config.js';
import { parseOVF } from '../../src/providers/vsphere/ovf.js';

describe('provider configuration', () => {
  it('reads vCenter, TLS, credentials Secret and zones', () => {
    const c = parseProviderConfig({
      vcenter: 'https://vc.example.com/sdk',
      caBundle: 'PEM',
      zones: 'zone-a:\n  cluster: C0\n',
    });
    assert.deepEqual(c, {
      vcenter: 'https://vc.example.com',
      datacenter: 'DC0',
      tls: { ca: 'PEM', thumbprint: undefined, insecure: false },
      credentialsSecret: 'vmop-vcenter-credentials',
      network: 'VM Network',
      zones: { 'zone-a': { cluster: 'C0' } },
    });
    assert.equal(parseProviderConfig({ vcenter: 'https://vc', network: 'DC0_DVPG0' }).network, 'DC0_DVPG0');
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['no vcenter', {}, /key "vcenter" is missing; set it to the vCenter URL/],
    ['not a URL', { vcenter: 'vc' }, /is not a URL/],
    ['http', { vcenter: 'http://vc' }, /must be an https:\/\/ URL/],
    ['credentials in the URL', { vcenter: 'https://u:p@vc' }, /must not hold credentials/],
    ['a zone without a cluster', { vcenter: 'https://vc', zones: 'a: {}' }, /zone "a" needs a "cluster"/],
  ];
  for (const [what, data, message] of bad)
    it(`says what is wrong with ${what}`, () => assert.throws(() => parseProviderConfig(data), message));

  it('reads library bindings for the cluster and per namespace', () => {
    assert.deepEqual(parseLibraryBindings({ cluster: 'a, b', 'namespace.team-1': 'c', other: 'x' }), {
      cluster: ['a', 'b'],
      namespaces: { 'team-1': ['c'] },
    });
  });

  it('reads the shipped Photon OVF: guest OS, hardware version, firmware, product, properties, capabilities', async () => {
    const info = parseOVF(await readFile(path.join(repoRoot(), 'config', 'images', 'photon-5.ovf'), 'utf8'));
    assert.equal(info.osType, 'vmwarePhoton64Guest');
    assert.equal(info.osVersion, '5.0');
    assert.equal(info.hardwareVersion, 19);
    assert.equal(info.firmware, 'efi');
    assert.deepEqual(info.product, { product: 'Photon OS', vendor: 'vmop', version: '5.0', fullVersion: '5.0.0' });
    assert.deepEqual(info.capabilities, ['cloud-init']);
    assert.deepEqual(info.properties, [{ key: 'user-data', type: 'string', default: '', userConfigurable: true }]);
    assert.deepEqual(info.disks, [{ name: 'Hard Disk 1', capacityBytes: 16 * 2 ** 30 }]);
  });

  it('names each OVF disk by its hardware item’s label, else its disk ID, unique within the image', () => {
    const disk = (id: string, gib: number) =>
      `<Disk ovf:capacity="${gib}" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="${id}" ovf:fileRef="f"/>`;
    const item = (label: string, id: string) =>
      `<Item><rasd:ElementName>${label}</rasd:ElementName><rasd:HostResource>ovf:/disk/${id}</rasd:HostResource></Item>`;
    const info = parseOVF(
      `<Envelope xmlns:ovf="o" xmlns:rasd="r"><DiskSection>${disk('a', 1)}${disk('b', 2)}${disk('c', 3)}${disk('d', 4)}` +
        `</DiskSection><VirtualSystem><VirtualHardwareSection>${item('Data', 'a')}${item('Data', 'b')}` +
        `${item('Data', 'c')}</VirtualHardwareSection></VirtualSystem></Envelope>`,
    );
    assert.deepEqual(
      info.disks.map((d) => [d.name, d.capacityBytes / 2 ** 30]),
      [
        ['Data', 1],
        ['Data_1', 2],
        ['Data_2', 3],
        ['d', 4],
      ],
    );
  });
});
