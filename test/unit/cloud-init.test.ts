// Cloud-Init data builders: raw user data in each encoding the API allows, guestinfo encoding, and metadata
// for interfaces with and without a known MAC address.
import { UserInputError } from '../../src/runtime/errors.js';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { withGlobalDNS } from '../../src/controllers/virtualmachine/bootstrap.js';
import YAML from 'yaml';
import {
  bootstrapDataError,
  cloudInitMetadata,
  decodeRawUserData,
  MAX_DECODED_BYTES,
  renderCloudConfig,
} from '../../src/controllers/virtualmachine/cloud-init.js';
import { guestInfo, MAX_GUESTINFO_VALUE_BYTES } from '../../src/providers/vsphere/guestinfo.js';

const USER_DATA = '#cloud-config\nruncmd:\n  - echo hi\n';

describe('Cloud-Init data', () => {
  it('reads raw user data given plain, base64 or gzip+base64', () => {
    assert.equal(decodeRawUserData(USER_DATA), USER_DATA);
    assert.equal(decodeRawUserData(Buffer.from(USER_DATA).toString('base64')), USER_DATA);
    assert.equal(decodeRawUserData(gzipSync(Buffer.from(USER_DATA)).toString('base64')), USER_DATA);
    // Plain text that merely looks like base64 stays as it is.
    assert.equal(decodeRawUserData('abcd'), 'abcd');
  });

  it('encodes guestinfo as gzip+base64, user data only when there is some', () => {
    const keys = guestInfo('instance-id: x\n', USER_DATA);
    assert.equal(keys['guestinfo.metadata.encoding'], 'gzip+base64');
    assert.equal(gunzipSync(Buffer.from(keys['guestinfo.metadata']!, 'base64')).toString(), 'instance-id: x\n');
    assert.equal(gunzipSync(Buffer.from(keys['guestinfo.userdata']!, 'base64')).toString(), USER_DATA);
    assert.deepEqual(Object.keys(guestInfo('a: b\n')).sort(), ['guestinfo.metadata', 'guestinfo.metadata.encoding']);
  });

  it('builds netplan per interface: matched by MAC when known, DHCP from the intended config', () => {
    const doc = YAML.parse(
      cloudInitMetadata({
        instanceID: 'id-1',
        hostName: 'vm-1',
        interfaces: [
          {
            name: 'eth0',
            mac: '00:50:56:AA:BB:CC',
            config: { name: 'eth0', ip: { dhcp: { ip4: { enabled: true } } } },
          },
          { name: 'eth1', config: { name: 'eth1', ip: {} } },
        ],
      }),
    ) as Record<string, unknown>;
    assert.deepEqual(doc, {
      'instance-id': 'id-1',
      'local-hostname': 'vm-1',
      hostname: 'vm-1',
      network: {
        version: 2,
        ethernets: {
          eth0: { match: { macaddress: '00:50:56:aa:bb:cc' }, 'set-name': 'eth0', dhcp4: true, dhcp6: false },
          eth1: { dhcp4: false, dhcp6: false },
        },
      },
    });
  });

  it('renders the modelled cloud-config and passes a missing Secret on as the reader reports it', async () => {
    const text = await renderCloudConfig({ users: [{ name: 'a' }], ssh_pwauth: false }, async () => 'x');
    assert.deepEqual(YAML.parse(text), { users: [{ name: 'a' }], ssh_pwauth: false });
    await assert.rejects(
      renderCloudConfig({ users: [{ name: 'a', passwd: { name: 's', key: 'k' } }] }, async (_ref, field) => {
        throw bootstrapDataError(`${field}: Secret "s" not found`, 'SecretNotFound');
      }),
      /cloudConfig\.users\[0\]\.passwd: Secret "s" not found/,
    );
  });

  it('refuses a gzip bomb without inflating it: 200 MiB of zeros in a 200 KiB Secret value', () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 }).toString('base64');
    assert.ok(bomb.length < 1024 * 1024, `the bomb is ${bomb.length} bytes, small enough for a Secret`);
    const before = process.memoryUsage().rss;
    assert.throws(
      () => decodeRawUserData(bomb, 'spec.bootstrap.cloudInit.rawCloudConfig'),
      (err: unknown) =>
        err instanceof UserInputError &&
        err.reason === 'BootstrapDataTooLarge' &&
        err.message.startsWith('spec.bootstrap.cloudInit.rawCloudConfig: ') &&
        err.message.includes(String(MAX_DECODED_BYTES)),
    );
    const grew = process.memoryUsage().rss - before;
    assert.ok(grew < 64 * 1024 * 1024, `decoding grew RSS by ${grew} bytes`);
  });

  it('decodes gzip+base64 data up to the limit', () => {
    const big = `#cloud-config\n# ${'x'.repeat(MAX_DECODED_BYTES - 20)}`;
    assert.equal(decodeRawUserData(gzipSync(Buffer.from(big)).toString('base64')), big);
  });

  it('refuses damaged gzip data with a reason, not a crash', () => {
    const damaged = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(30, 7)]).toString('base64');
    assert.throws(
      () => decodeRawUserData(damaged, 'f'),
      (err: unknown) => err instanceof UserInputError && err.reason === 'InvalidData',
    );
  });

  it('refuses user data over the guestinfo limit once encoded, naming the limit', () => {
    // Random text hardly compresses: 100 KiB stays over 64 KiB in gzip+base64.
    const noise = Buffer.from(Array.from({ length: 100 * 1024 }, () => Math.floor(Math.random() * 256))).toString(
      'base64',
    );
    assert.throws(
      () => guestInfo('instance-id: x\n', `#cloud-config\n# ${noise}`),
      (err: unknown) =>
        err instanceof UserInputError &&
        err.reason === 'BootstrapDataTooLarge' &&
        err.message.includes(`limit of ${MAX_GUESTINFO_VALUE_BYTES} bytes`),
    );
    assert.ok(guestInfo('instance-id: x\n', '#cloud-config\n')['guestinfo.userdata']);
  });
});

describe('global DNS for interfaces without their own', () => {
  const dns = { hostName: 'vm', nameservers: ['10.0.0.2'], searchDomains: ['example.com'] };
  const bare = { name: 'eth0', ip: { dhcp: { ip4: { enabled: true } } } };
  const own = { ...bare, dns: { nameservers: ['1.1.1.1'] } };

  it('gives an interface the global nameservers and search domains by default', () => {
    assert.deepEqual(withGlobalDNS(bare, dns).dns, { nameservers: ['10.0.0.2'], searchDomains: ['example.com'] });
  });

  it('keeps an interface’s own nameservers and still adds the global search domains', () => {
    assert.deepEqual(withGlobalDNS(own, dns).dns, { nameservers: ['1.1.1.1'], searchDomains: ['example.com'] });
  });

  it('gives none when useGlobalNameserversAsDefault and useGlobalSearchDomainsAsDefault are false', () => {
    assert.equal(withGlobalDNS(bare, dns, { nameservers: false, searchDomains: false }).dns, undefined);
    assert.deepEqual(withGlobalDNS(bare, dns, { nameservers: false, searchDomains: true }).dns, {
      searchDomains: ['example.com'],
    });
    assert.deepEqual(withGlobalDNS(own, dns, { nameservers: false, searchDomains: false }).dns, own.dns);
  });
});
