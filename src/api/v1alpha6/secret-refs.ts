// Every place a VirtualMachine's spec (the hub version) names a Secret, with the field path it sits at:
// Cloud-Init's raw cloud-config, user passwords and write_files content, LinuxPrep's root password and script,
// Sysprep's raw XML, administrator and domain passwords, product key and script, and vApp properties (one key,
// or a whole Secret). The admission webhook checks each name and key; the controller reads only these, from
// the VM's own namespace.
import { isPlainObject } from '../schema.js';
import type { VirtualMachine } from './virtualmachine.js';

export interface SecretReference {
  /** Field path of the reference, e.g. spec.bootstrap.cloudInit.rawCloudConfig. */
  field: string;
  name: unknown;
  /** The reference is to a whole Secret, by name alone (vAppConfig.rawProperties); no key. */
  whole?: true;
  key?: unknown;
  /** The key used when the reference names none (Sysprep's selectors have defaults). */
  defaultKey?: string;
}

/** The key LinuxPrep's root password selector uses when none is given (as VM Operator defaults it). */
export const LINUXPREP_PASSWORD_KEY = 'password';

/** Sysprep selectors and the key each one uses when none is given (as VM Operator defaults them). */
export const SYSPREP_SECRET_FIELDS = [
  { path: ['guiUnattended', 'password'], defaultKey: 'password' },
  { path: ['identification', 'domainAdminPassword'], defaultKey: 'domain_admin_password' },
  { path: ['userData', 'productID'], defaultKey: 'product_id' },
] as const;

function selector(field: string, value: unknown, defaultKey?: string): SecretReference[] {
  if (value === undefined || value === null) return [];
  if (!isPlainObject(value)) return [{ field, name: value, key: undefined, defaultKey }];
  return [{ field, name: value.name, key: value.key, defaultKey }];
}

/** The value at `path` inside a free-form object, or undefined. */
function at(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Every Secret reference of the VM's spec. */
export function secretReferences(vm: Pick<VirtualMachine, 'spec'>): SecretReference[] {
  const b = vm.spec?.bootstrap;
  if (!b) return [];
  const out: SecretReference[] = [];
  const ci = 'spec.bootstrap.cloudInit';
  if (b.cloudInit) {
    out.push(...selector(`${ci}.rawCloudConfig`, b.cloudInit.rawCloudConfig));
    (b.cloudInit.cloudConfig?.users ?? []).forEach((u, i) => {
      out.push(...selector(`${ci}.cloudConfig.users[${i}].passwd`, u.passwd));
      out.push(...selector(`${ci}.cloudConfig.users[${i}].hashed_passwd`, u.hashed_passwd));
    });
    (b.cloudInit.cloudConfig?.write_files ?? []).forEach((f, i) => {
      const c = f.content;
      // Content is a string, or {name, key} of a Secret: an object is always read as a reference.
      if (isPlainObject(c)) out.push(...selector(`${ci}.cloudConfig.write_files[${i}].content`, c));
    });
  }
  if (b.linuxPrep) {
    out.push(...selector('spec.bootstrap.linuxPrep.password', b.linuxPrep.password, LINUXPREP_PASSWORD_KEY));
    out.push(...selector('spec.bootstrap.linuxPrep.scriptText.from', b.linuxPrep.scriptText?.from));
  }
  if (b.sysprep) {
    out.push(...selector('spec.bootstrap.sysprep.rawSysprep', b.sysprep.rawSysprep));
    for (const { path, defaultKey } of SYSPREP_SECRET_FIELDS) {
      const value = at(b.sysprep.sysprep, path);
      out.push(...selector(`spec.bootstrap.sysprep.sysprep.${path.join('.')}`, value, defaultKey));
    }
    out.push(...selector('spec.bootstrap.sysprep.sysprep.scriptText.from', b.sysprep.sysprep?.scriptText?.from));
  }
  if (b.vAppConfig) {
    if (b.vAppConfig.rawProperties !== undefined) {
      out.push({ field: 'spec.bootstrap.vAppConfig.rawProperties', name: b.vAppConfig.rawProperties, whole: true });
    }
    (b.vAppConfig.properties ?? []).forEach((p, i) => {
      out.push(...selector(`spec.bootstrap.vAppConfig.properties[${i}].value.from`, p.value?.from));
    });
  }
  return out;
}
