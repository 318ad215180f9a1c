// spec.network rules: addresses in CIDR form, gateways and DHCP that agree with them, nameservers and routes
// that are IP addresses, MTU within range, unique interface names, and no change once the VM is deployed.
import net from 'node:net';
import type { FieldError } from '../../../api/schema.js';
import { isDeployed, type VMValidationContext } from './context.js';

export const MTU_MIN = 68;
export const MTU_MAX = 9000;

/** The IP family of an "address/prefix" string, or a reason it is not one. */
export function parseCIDR(value: string): { family: 4 | 6 } | { problem: string } {
  const slash = value.indexOf('/');
  if (slash < 0)
    return { problem: 'must be an IP address with a prefix length, e.g. 192.168.0.10/24 or 2001:db8::a/64' };
  const ip = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  const family = net.isIP(ip);
  if (family === 0) return { problem: `${JSON.stringify(ip)} is not an IPv4 or IPv6 address` };
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return { problem: `prefix length must be 0 to ${max}` };
  return { family: family as 4 | 6 };
}

export function validateNetwork(ctx: VMValidationContext): FieldError[] {
  const network = ctx.vm.spec?.network;
  const errors: FieldError[] = [];
  if (network) {
    (network.nameservers ?? []).forEach((ns, i) => {
      if (net.isIP(ns) === 0) {
        errors.push({
          field: `spec.network.nameservers[${i}]`,
          type: 'Invalid',
          value: ns,
          detail: 'must be an IPv4 or IPv6 address',
        });
      }
    });
    const seen = new Set<string>();
    (network.interfaces ?? []).forEach((iface, i) => {
      const p = `spec.network.interfaces[${i}]`;
      if (seen.has(iface.name)) errors.push({ field: `${p}.name`, type: 'Duplicate', value: iface.name, detail: '' });
      seen.add(iface.name);
      errors.push(...validateInterface(p, iface));
    });
  }
  errors.push(...validateImmutableAfterDeploy(ctx));
  return errors;
}

type Interface = NonNullable<
  NonNullable<NonNullable<VMValidationContext['vm']['spec']>['network']>['interfaces']
>[number];

function validateInterface(p: string, iface: Interface): FieldError[] {
  const errors: FieldError[] = [];
  const v4: string[] = [];
  const v6: string[] = [];
  (iface.addresses ?? []).forEach((addr, i) => {
    const parsed = parseCIDR(addr);
    if ('problem' in parsed)
      errors.push({ field: `${p}.addresses[${i}]`, type: 'Invalid', value: addr, detail: parsed.problem });
    else (parsed.family === 4 ? v4 : v6).push(addr);
  });
  const gateways: [string, string | undefined, 4 | 6, string[], boolean | undefined][] = [
    ['gateway4', iface.gateway4, 4, v4, iface.dhcp4],
    ['gateway6', iface.gateway6, 6, v6, iface.dhcp6],
  ];
  for (const [key, gw, family, addrs, dhcp] of gateways) {
    const dhcpKey = `dhcp${family}`;
    if (gw && gw !== 'None') {
      if (addrs.length === 0) {
        errors.push({
          field: `${p}.${key}`,
          type: 'Invalid',
          value: gw,
          detail: `${key} must have an IPv${family} address in the addresses field`,
        });
      }
      if (net.isIP(gw) !== family) {
        errors.push({
          field: `${p}.${key}`,
          type: 'Invalid',
          value: gw,
          detail: `must be a valid IPv${family} address`,
        });
      }
    }
    if (dhcp) {
      if (addrs.length > 0) {
        errors.push({
          field: `${p}.${dhcpKey}`,
          type: 'Invalid',
          value: addrs.join(','),
          detail: `${dhcpKey} cannot be used with IPv${family} addresses in addresses field`,
        });
      }
      if (gw)
        errors.push({
          field: `${p}.${key}`,
          type: 'Invalid',
          value: gw,
          detail: `${key} is mutually exclusive with ${dhcpKey}`,
        });
    }
  }
  (iface.nameservers ?? []).forEach((ns, i) => {
    if (net.isIP(ns) === 0)
      errors.push({
        field: `${p}.nameservers[${i}]`,
        type: 'Invalid',
        value: ns,
        detail: 'must be an IPv4 or IPv6 address',
      });
  });
  (iface.routes ?? []).forEach((route, i) => {
    const rp = `${p}.routes[${i}]`;
    let toFamily: number | undefined;
    if (route.to !== 'default') {
      const parsed = parseCIDR(route.to);
      if ('problem' in parsed)
        errors.push({ field: `${rp}.to`, type: 'Invalid', value: route.to, detail: `${parsed.problem}, or "default"` });
      else toFamily = parsed.family;
    }
    const viaFamily = net.isIP(route.via);
    if (viaFamily === 0)
      errors.push({ field: `${rp}.via`, type: 'Invalid', value: route.via, detail: 'must be an IPv4 or IPv6 address' });
    else if (toFamily !== undefined && toFamily !== viaFamily) {
      errors.push({ field: rp, type: 'Invalid', value: '', detail: 'cannot mix IP address families' });
    }
  });
  if (iface.mtu !== undefined && (iface.mtu < MTU_MIN || iface.mtu > MTU_MAX)) {
    errors.push({
      field: `${p}.mtu`,
      type: 'Invalid',
      value: iface.mtu,
      detail: `must be between ${MTU_MIN} and ${MTU_MAX} bytes`,
    });
  }
  return errors;
}

/** Once deployed, only spec.network.disabled may change (and it has no effect then). */
function validateImmutableAfterDeploy(ctx: VMValidationContext): FieldError[] {
  if (ctx.operation !== 'UPDATE' || !isDeployed(ctx.old)) return [];
  const before = ctx.old?.spec?.network;
  const after = ctx.vm.spec?.network;
  const redeploy =
    'the network configuration cannot change once the VM is deployed; to change it, redeploy the VM (delete it and create it again)';
  const oldIfaces = before?.interfaces ?? [];
  const newIfaces = after?.interfaces ?? [];
  if (oldIfaces.length !== newIfaces.length) {
    return [
      {
        field: 'spec.network.interfaces',
        type: 'Forbidden',
        detail: `network interfaces cannot be added or removed: ${redeploy}`,
      },
    ];
  }
  const errors: FieldError[] = [];
  newIfaces.forEach((iface, i) => {
    const old = oldIfaces[i];
    if (old && iface.name !== old.name) {
      errors.push({
        field: `spec.network.interfaces[${i}].name`,
        type: 'Forbidden',
        detail: `network interfaces cannot be renamed: ${redeploy}`,
      });
    } else if (JSON.stringify(iface) !== JSON.stringify(old)) {
      errors.push({ field: `spec.network.interfaces[${i}]`, type: 'Forbidden', detail: redeploy });
    }
  });
  const { disabled: _a, interfaces: _b, ...restBefore } = before ?? {};
  const { disabled: _c, interfaces: _d, ...restAfter } = after ?? {};
  for (const key of new Set([...Object.keys(restBefore), ...Object.keys(restAfter)])) {
    const k = key as keyof typeof restAfter;
    if (JSON.stringify(restBefore[k]) !== JSON.stringify(restAfter[k])) {
      errors.push({ field: `spec.network.${key}`, type: 'Forbidden', detail: redeploy });
    }
  }
  return errors;
}
