// VirtualMachine networking: the desired interfaces and guest network settings (spec.network) and the
// intended and observed network state (status.network).
import { type Schema, s } from '../schema.js';
import { KeyValuePair, PartialObjectRef } from './common.js';

const ipList = (description: string) => s.optional(s.array(s.string(), { description }));

export const NetworkRouteSpec = s.object(
  {
    to: s.string({ description: 'Destination: an IP4 or IP6 network in CIDR form, or "default".' }),
    via: s.string({ description: 'Next hop: an IP4 or IP6 address.' }),
    metric: s.optional(s.int32({ minimum: 1, description: 'Weight of the route; lower wins.' })),
  },
  { description: 'A static route in the guest.' },
);

export const NetworkInterfaceSpec = s.object(
  {
    name: s.string({
      pattern: '^[a-z0-9]{2,}$',
      description:
        'Unique name of the interface on this VM (two or more lowercase letters or digits). With Cloud-Init and ' +
        'no guestDeviceName, the guest device is renamed to it.',
    }),
    network: s.optional(
      s.object(PartialObjectRef.props, {
        description: 'The network this interface connects to; the namespace’s default network when omitted.',
      }),
    ),
    guestDeviceName: s.optional(
      s.string({ pattern: '^\\w\\w+$', description: 'Device name in the guest (Cloud-Init only).' }),
    ),
    macAddr: s.optional(
      s.string({
        pattern: '^([0-9A-Fa-f]{2}:){5}([0-9A-Fa-f]{2})$',
        description: 'MAC address of the interface; vSphere or the network provider chooses one when omitted.',
      }),
    ),
    addresses: ipList(
      'Static IP4/IP6 addresses with prefix length, e.g. 192.168.0.10/24 or 2001:db8::a/64. Needs a network ' +
        'that allows manual allocation; no IP4 addresses with dhcp4, no IP6 addresses with dhcp6.',
    ),
    dhcp4: s.optional(s.boolean({ description: 'Use DHCP for IP4. Excludes IP4 addresses and gateway4.' })),
    dhcp6: s.optional(s.boolean({ description: 'Use DHCP for IP6. Excludes IP6 addresses and gateway6.' })),
    gateway4: s.optional(
      s.string({
        description: 'Default IP4 gateway; the network’s gateway when omitted, none when "None". Excludes dhcp4.',
      }),
    ),
    gateway6: s.optional(
      s.string({
        description: 'Default IP6 gateway; the network’s gateway when omitted, none when "None". Excludes dhcp6.',
      }),
    ),
    mtu: s.optional(s.int64({ description: 'Maximum transmission unit in bytes (Cloud-Init only).' })),
    nameservers: ipList('DNS server addresses for this interface (Cloud-Init only).'),
    routes: s.optional(s.array(NetworkRouteSpec, { description: 'Static routes (Cloud-Init only).' })),
    searchDomains: s.optional(
      s.array(s.string(), { description: 'DNS search domains for this interface (Cloud-Init only).' }),
    ),
  },
  { description: 'A network interface of the VM and how the guest configures it.' },
);

/** spec.network.interfaces of any version: at most 10, keyed by name. */
export const interfaceList = <T>(item: Schema<T>) =>
  s.optional(
    s.array(item, {
      description:
        'The VM’s network interfaces, at most 10. When empty and networking is not disabled, one interface ' +
        'named eth0 is added.',
      maxItems: 10,
      listType: 'map',
      listMapKeys: ['name'],
    }),
  );

export const NetworkSpec = s.object(
  {
    hostName: s.optional(
      s.string({
        description:
          'Host name of the guest; the VM’s name when omitted. Must be a DNS label (RFC 1123), at most 63 ' +
          'characters (15 on Windows).',
      }),
    ),
    domainName: s.optional(s.string({ description: 'Domain name of the guest (or the Windows domain to join).' })),
    disabled: s.optional(
      s.boolean({ description: 'No network interfaces at all, not even the default one. No effect once deployed.' }),
    ),
    nameservers: ipList('Global DNS server addresses (LinuxPrep and Sysprep).'),
    searchDomains: s.optional(
      s.array(s.string(), { description: 'Global DNS search domains (LinuxPrep and Sysprep).' }),
    ),
    interfaces: interfaceList(NetworkInterfaceSpec),
  },
  { description: 'Desired network configuration. Immutable once the VM is deployed.' },
);

const DNSStatusProps = {
  hostName: s.optional(s.string({ description: 'Host name part of the DNS name.' })),
  domainName: s.optional(s.string({ description: 'Domain part of the DNS name.' })),
  nameservers: ipList('DNS server addresses.'),
  searchDomains: s.optional(s.array(s.string(), { description: 'DNS search domains, in order of preference.' })),
};

export const NetworkConfigDNSStatus = s.object(DNSStatusProps, { description: 'Configured client-side DNS.' });
export const NetworkDNSStatus = s.object(
  { dhcp: s.optional(s.boolean({ description: 'DNS settings came from DHCP.' })), ...DNSStatusProps },
  { description: 'Observed client-side DNS.' },
);

const enabledFlag = s.object({ enabled: s.optional(s.boolean({ description: 'DHCP is enabled.' })) });

export const NetworkConfigInterfaceStatus = s.object(
  {
    name: s.optional(s.string({ description: 'Name of the matching interface in spec.network.interfaces.' })),
    ip: s.optional(
      s.object(
        {
          dhcp: s.optional(s.object({ ip4: s.optional(enabledFlag), ip6: s.optional(enabledFlag) })),
          addresses: ipList('Addresses given to the interface, with prefix length.'),
          gateway4: s.optional(s.string({ description: 'IP4 gateway given to the interface.' })),
          gateway6: s.optional(s.string({ description: 'IP6 gateway given to the interface.' })),
        },
        { description: 'IP settings given to the interface.' },
      ),
    ),
    dns: s.optional(NetworkConfigDNSStatus),
  },
  { description: 'Intended configuration of one interface.' },
);

const DHCPOptionsStatus = s.object({
  config: s.optional(s.array(KeyValuePair, { listType: 'map', listMapKeys: ['key'] })),
  enabled: s.optional(s.boolean()),
});
const DHCPStatus = s.object({ ip4: s.optional(DHCPOptionsStatus), ip6: s.optional(DHCPOptionsStatus) });

const IPRouteStatus = s.object({
  gateway: s.optional(s.object({ device: s.optional(s.string()), address: s.optional(s.string()) })),
  networkAddress: s.optional(s.string({ description: 'Destination network with prefix length.' })),
});

export const NetworkInterfaceStatus = s.object(
  {
    name: s.optional(s.string({ description: 'Name of the matching interface in spec.network.interfaces.' })),
    deviceKey: s.optional(s.int32({ description: 'vSphere device key of the network adapter.' })),
    ip: s.optional(
      s.object({
        autoConfigurationEnabled: s.optional(s.boolean()),
        dhcp: s.optional(DHCPStatus),
        addresses: s.optional(
          s.array(
            s.object({
              address: s.optional(s.string()),
              lifetime: s.optional(s.string({ format: 'date-time' })),
              origin: s.optional(s.enum(['dhcp', 'linklayer', 'manual', 'other', 'random'] as const)),
              state: s.optional(
                s.enum([
                  'deprecated',
                  'duplicate',
                  'inaccessible',
                  'invalid',
                  'preferred',
                  'tentative',
                  'unknown',
                ] as const),
              ),
            }),
          ),
        ),
        macAddr: s.optional(s.string({ description: 'Observed MAC address.' })),
      }),
    ),
    dns: s.optional(NetworkDNSStatus),
  },
  { description: 'Observed state of one interface, as VM Tools report it.' },
);

export const NetworkStatus = s.object(
  {
    config: s.optional(
      s.object(
        {
          interfaces: s.optional(s.array(NetworkConfigInterfaceStatus)),
          dns: s.optional(NetworkConfigDNSStatus),
        },
        {
          description:
            'The network configuration given to the guest (intended, not observed): from the spec, IPAM and ' +
            'the operator’s defaults.',
        },
      ),
    ),
    hostName: s.optional(s.string({ description: 'Host name the guest reports.' })),
    interfaces: s.optional(s.array(NetworkInterfaceStatus)),
    ipStacks: s.optional(
      s.array(
        s.object({
          dhcp: s.optional(DHCPStatus),
          dns: s.optional(NetworkDNSStatus),
          ipRoutes: s.optional(s.array(IPRouteStatus)),
          kernelConfig: s.optional(s.array(KeyValuePair, { listType: 'map', listMapKeys: ['key'] })),
        }),
      ),
    ),
    primaryIP4: s.optional(s.string({ description: 'Primary IP4 address of the guest.' })),
    primaryIP6: s.optional(s.string({ description: 'Primary IP6 address of the guest.' })),
  },
  { description: 'Network state of the VM.' },
);
