// Bootstrap rules: which providers combine (Cloud-Init alone; LinuxPrep or Sysprep, each with vAppConfig),
// their mutually exclusive fields, the Sysprep answer file's own rules, and the spec's two support tables: a
// network field the chosen provider cannot deliver is refused with the providers that could, never silently
// dropped.
import type { FieldError } from '../../../api/schema.js';
import type { VirtualMachine } from '../../../api/v1alpha6/virtualmachine.js';
import type { VMValidationContext } from './context.js';

type Provider = 'CloudInit' | 'LinuxPrep' | 'Sysprep';

/** The spec's "Global Guest Network Configuration" table, for the fields not every provider supports. */
export const GLOBAL_SUPPORT: Record<'nameservers' | 'searchDomains', Provider[]> = {
  nameservers: ['LinuxPrep', 'Sysprep'],
  searchDomains: ['LinuxPrep', 'Sysprep'],
};

/** The spec's "Per-Interface Guest Network Configuration" table, for the fields not every provider supports. */
export const INTERFACE_SUPPORT: Record<
  'guestDeviceName' | 'mtu' | 'nameservers' | 'routes' | 'searchDomains',
  Provider[]
> = {
  guestDeviceName: ['CloudInit'],
  mtu: ['CloudInit'],
  nameservers: ['CloudInit'],
  routes: ['CloudInit'],
  searchDomains: ['CloudInit'],
};

function providersOf(ctx: VMValidationContext): Provider[] {
  const b = ctx.vm.spec?.bootstrap;
  const out: Provider[] = [];
  if (b?.cloudInit) out.push('CloudInit');
  if (b?.linuxPrep) out.push('LinuxPrep');
  if (b?.sysprep) out.push('Sysprep');
  return out;
}

function unsupported(field: string, name: string, value: unknown, supportedBy: Provider[]): FieldError {
  return {
    field,
    type: 'Invalid',
    value,
    detail: `${name} is available only with the following bootstrap providers: ${supportedBy.join(' and ')}`,
  };
}

function present(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== '';
}

function shown(value: unknown): unknown {
  return Array.isArray(value) ? value.map(String).join(',') : value;
}

export function validateBootstrap(ctx: VMValidationContext): FieldError[] {
  const errors: FieldError[] = [];
  const b = ctx.vm.spec?.bootstrap;
  const p = 'spec.bootstrap';
  if (b?.cloudInit) {
    if (b.linuxPrep || b.sysprep || b.vAppConfig) {
      errors.push({
        field: `${p}.cloudInit`,
        type: 'Forbidden',
        detail: 'CloudInit may not be used with any other bootstrap provider',
      });
    }
    if (b.cloudInit.cloudConfig && b.cloudInit.rawCloudConfig) {
      errors.push({
        field: `${p}.cloudInit`,
        type: 'Invalid',
        value: 'cloudInit',
        detail: 'cloudConfig and rawCloudConfig are mutually exclusive',
      });
    }
  }
  if (b?.linuxPrep && (b.cloudInit || b.sysprep)) {
    errors.push({
      field: `${p}.linuxPrep`,
      type: 'Forbidden',
      detail: 'LinuxPrep may not be used with either CloudInit or Sysprep bootstrap providers',
    });
  }
  if (b?.linuxPrep?.scriptText) errors.push(...scriptTextErrors(`${p}.linuxPrep.scriptText`, b.linuxPrep.scriptText));
  if (b?.sysprep) {
    if (b.cloudInit || b.linuxPrep) {
      errors.push({
        field: `${p}.sysprep`,
        type: 'Forbidden',
        detail: 'Sysprep may not be used with either CloudInit or LinuxPrep bootstrap providers',
      });
    }
    if (b.sysprep.sysprep && b.sysprep.rawSysprep) {
      errors.push({
        field: `${p}.sysprep`,
        type: 'Invalid',
        value: 'sysPrep',
        detail: 'sysprep and rawSysprep are mutually exclusive',
      });
    } else if (!b.sysprep.sysprep && !b.sysprep.rawSysprep) {
      errors.push({
        field: `${p}.sysprep`,
        type: 'Invalid',
        value: 'sysPrep',
        detail: 'either sysprep or rawSysprep must be provided',
      });
    }
    if (b.sysprep.sysprep) errors.push(...inlineSysprepErrors(b.sysprep.sysprep, ctx.vm.spec?.network?.domainName));
  }
  if (b?.vAppConfig) {
    const v = b.vAppConfig;
    if (b.cloudInit) {
      errors.push({
        field: `${p}.vAppConfig`,
        type: 'Forbidden',
        detail: 'vAppConfig may not be used in conjunction with CloudInit bootstrap provider',
      });
    }
    if ((v.properties?.length ?? 0) > 0 && v.rawProperties) {
      errors.push({
        field: `${p}.vAppConfig`,
        type: 'Invalid',
        value: 'vAppConfig',
        detail: 'properties and rawProperties are mutually exclusive',
      });
    }
    (v.properties ?? []).forEach((prop, i) => {
      if (!prop.key) {
        errors.push({
          field: `${p}.vAppConfig.properties[${i}].key`,
          type: 'Required',
          detail: 'key is a required field in vAppConfig Properties',
        });
      }
      if (prop.value?.from && prop.value.value !== undefined) {
        errors.push({
          field: `${p}.vAppConfig.properties[${i}].value`,
          type: 'Invalid',
          value: 'value',
          detail: 'from and value are mutually exclusive',
        });
      }
    });
  }
  errors.push(...validateSupportTables(ctx));
  return errors;
}

function validateSupportTables(ctx: VMValidationContext): FieldError[] {
  const network = ctx.vm.spec?.network;
  if (!network) return [];
  const providers = providersOf(ctx);
  const supported = (by: Provider[]) => by.some((x) => providers.includes(x));
  const errors: FieldError[] = [];
  for (const [name, by] of Object.entries(GLOBAL_SUPPORT)) {
    const value = network[name as keyof typeof GLOBAL_SUPPORT];
    if (present(value) && !supported(by)) errors.push(unsupported(`spec.network.${name}`, name, shown(value), by));
  }
  (network.interfaces ?? []).forEach((iface, i) => {
    for (const [name, by] of Object.entries(INTERFACE_SUPPORT)) {
      const value = iface[name as keyof typeof INTERFACE_SUPPORT];
      if (!present(value) || supported(by)) continue;
      const v = name === 'routes' ? 'routes' : shown(value);
      errors.push(unsupported(`spec.network.interfaces[${i}].${name}`, name, v, by));
    }
  });
  return errors;
}

type Answers = NonNullable<
  NonNullable<NonNullable<NonNullable<VirtualMachine['spec']>['bootstrap']>['sysprep']>['sysprep']
>;

/**
 * VM Operator's rules for the answer file: automatic log-on needs a count and a password; a domain to join
 * (spec.network.domainName) needs the account that joins it, and excludes a workgroup, which excludes the domain
 * account and OU in turn.
 */
function inlineSysprepErrors(answers: Answers, domainName: string | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const field = 'spec.bootstrap.sysprep.sysprep';
  const invalid = (value: string, detail: string) => errors.push({ field, type: 'Invalid', value, detail });
  const gui = answers.guiUnattended;
  if (gui?.autoLogon && !gui.autoLogonCount)
    invalid('guiUnattended', 'autoLogon requires autoLogonCount to be specified');
  if (gui?.autoLogon && !gui.password?.name) invalid('guiUnattended', 'autoLogon requires password selector to be set');
  const id = answers.identification;
  if (id) {
    if (domainName && id.joinWorkgroup) {
      invalid('identification', 'spec.network.domainName and joinWorkgroup are mutually exclusive');
    }
    if (domainName && (!id.domainAdmin || !id.domainAdminPassword?.name)) {
      invalid(
        'identification',
        'spec.network.domainName requires domainAdmin and domainAdminPassword selector to be set',
      );
    }
    if (id.joinWorkgroup && (id.domainAdmin || id.domainAdminPassword || id.domainOU)) {
      invalid('identification', 'joinWorkgroup and domainAdmin/domainAdminPassword/domainOU are mutually exclusive');
    }
  }
  if (answers.scriptText) errors.push(...scriptTextErrors(`${field}.scriptText`, answers.scriptText));
  return errors;
}

/** A script is given inline or from a Secret, not both. */
function scriptTextErrors(field: string, script: { from?: unknown; value?: unknown }): FieldError[] {
  return script.from !== undefined && script.value !== undefined
    ? [{ field: `${field}.value`, type: 'Invalid', value: 'value', detail: 'from and value are mutually exclusive' }]
    : [];
}
