// Cloud-Init bootstrap data: instance metadata (instance ID, host name, a netplan v2 network config built from
// the intended network config and the NICs' MAC addresses, SSH keys) and user data (the modelled cloudConfig
// rendered as #cloud-config, or a raw one from a Secret, decoded within a bound). The provider puts them where
// the guest reads them (vSphere: guestinfo). Pure: Secrets are resolved by the caller's `secret` function.
import { gunzipSync } from 'node:zlib';
import YAML from 'yaml';
import type { ConfigInterface } from './network-config.js';
import type { CloudConfigSpec } from './types.js';
import { UserInputError } from '../../runtime/errors.js';

export interface SecretRef {
  name: string;
  key: string;
}

/** Reads one Secret key of the VM's namespace; throws bootstrapDataError's UserInputError when it is missing. */
export type SecretReader = (ref: SecretRef, field: string) => Promise<string>;

/** Secrets are not watched (that would cache every Secret of the cluster): bootstrap data refused for a
 * missing Secret or key is looked for again after this long. */
export const SECRET_RECHECK_MS = 10_000;

/** Bootstrap data the user must fix (a missing Secret or key, undecodable data); the VM is not powered on until
 * it is there. */
export function bootstrapDataError(message: string, reason: string): UserInputError {
  return new UserInputError(message, reason, { recheckAfterMs: SECRET_RECHECK_MS });
}

export interface InterfaceForGuest {
  name: string;
  guestDeviceName?: string;
  mtu?: number;
  routes?: { to: string; via: string; metric?: number }[];
  /** The intended config of the interface (status.network.config.interfaces[]). */
  config: ConfigInterface;
  /** MAC address of the VM's NIC for this interface, when known. */
  mac?: string;
}

export interface MetadataInput {
  instanceID: string;
  hostName: string;
  domainName?: string;
  interfaces: InterfaceForGuest[];
  sshAuthorizedKeys?: string[];
}

/** The instance metadata document (YAML). */
export function cloudInitMetadata(input: MetadataInput): string {
  const ethernets: Record<string, unknown> = {};
  for (const i of input.interfaces) {
    const device = i.guestDeviceName || i.name;
    const ip = i.config.ip ?? {};
    const dns = i.config.dns;
    ethernets[device] = {
      ...(i.mac ? { match: { macaddress: i.mac.toLowerCase() }, 'set-name': device } : {}),
      dhcp4: ip.dhcp?.ip4?.enabled === true,
      dhcp6: ip.dhcp?.ip6?.enabled === true,
      ...(ip.addresses?.length ? { addresses: ip.addresses } : {}),
      ...(ip.gateway4 ? { gateway4: ip.gateway4 } : {}),
      ...(ip.gateway6 ? { gateway6: ip.gateway6 } : {}),
      ...(i.mtu ? { mtu: i.mtu } : {}),
      ...(dns?.nameservers?.length || dns?.searchDomains?.length
        ? {
            nameservers: {
              ...(dns.nameservers?.length ? { addresses: dns.nameservers } : {}),
              ...(dns.searchDomains?.length ? { search: dns.searchDomains } : {}),
            },
          }
        : {}),
      ...(i.routes?.length ? { routes: i.routes } : {}),
    };
  }
  const fqdn = input.domainName ? `${input.hostName}.${input.domainName}` : input.hostName;
  const doc = {
    'instance-id': input.instanceID,
    'local-hostname': input.hostName,
    hostname: fqdn,
    network: { version: 2, ethernets },
    ...(input.sshAuthorizedKeys?.length ? { 'public-keys': input.sshAuthorizedKeys } : {}),
  };
  return YAML.stringify(doc, { lineWidth: 0 });
}

/** The modelled cloud-config as a #cloud-config document, its Secret references resolved. */
export async function renderCloudConfig(config: CloudConfigSpec, secret: SecretReader): Promise<string> {
  const doc: Record<string, unknown> = {};
  if (config.timezone) doc.timezone = config.timezone;
  if (config.users?.length) {
    const users: unknown[] = config.defaultUserEnabled ? ['default'] : [];
    for (const [n, u] of config.users.entries()) {
      const { passwd, hashed_passwd, ...rest } = u;
      users.push({
        ...rest,
        ...(passwd ? { passwd: await secret(passwd, `cloudConfig.users[${n}].passwd`) } : {}),
        ...(hashed_passwd
          ? { hashed_passwd: await secret(hashed_passwd, `cloudConfig.users[${n}].hashed_passwd`) }
          : {}),
      });
    }
    doc.users = users;
  }
  if (config.runcmd !== undefined) doc.runcmd = config.runcmd;
  if (config.write_files?.length) {
    const files: unknown[] = [];
    for (const [n, f] of config.write_files.entries()) {
      const c = f.content;
      const content =
        c && typeof c === 'object' && 'name' in c && 'key' in c
          ? await secret(c as SecretRef, `cloudConfig.write_files[${n}].content`)
          : c;
      files.push({ ...f, ...(content !== undefined ? { content } : {}) });
    }
    doc.write_files = files;
  }
  if (config.ssh_pwauth !== undefined) doc.ssh_pwauth = config.ssh_pwauth;
  return `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

/**
 * Decoded bootstrap data (raw cloud-config, raw sysprep XML) may be at most this large. Gzip shrinks zeros
 * about 1000:1, so a Secret well under its 1 MiB limit could otherwise expand to a gigabyte in the manager.
 */
export const MAX_DECODED_BYTES = 1024 * 1024;

/**
 * Raw user data from a Secret: plain text, base64, or gzip+base64 (as the API allows) — returned plain. The
 * decompressed size is bounded: more than MAX_DECODED_BYTES is a bootstrapDataError that names the field.
 */
export function decodeRawUserData(value: string, field = 'bootstrap data'): string {
  const trimmed = value.trim();
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) && trimmed.length % 4 === 0 && trimmed.length > 0) {
    const bytes = Buffer.from(trimmed, 'base64');
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        return gunzipSync(bytes, { maxOutputLength: MAX_DECODED_BYTES }).toString('utf8');
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
          throw bootstrapDataError(
            `${field}: the decompressed data is larger than the limit of ${MAX_DECODED_BYTES} bytes`,
            'BootstrapDataTooLarge',
          );
        }
        throw bootstrapDataError(`${field}: the gzip data cannot be decompressed (${String(err)})`, 'InvalidData');
      }
    }
    const text = bytes.toString('utf8');
    // Only if it decodes to text that looks like user data (a base64-looking plain script is left alone).
    if (/^(#cloud-config|#!|#include|Content-Type:)/.test(text)) return text;
  }
  return value;
}
