// Guest bootstrap right before a power-on: Cloud-Init data into guestinfo ExtraConfig, a LinuxPrep/Sysprep
// customization handed to vSphere once, and vApp properties — with the Secrets they name read from the VM's
// namespace. Each is prepared in the reconcile (Secrets read, data rendered; missing input is a
// UserInputError the controller turns into a condition) and written to vSphere by the power-on operation that
// follows it (a reconfigure or customization is a task: it runs beside the reconcile). User data never
// reaches logs, Events or status.
import type { EventRecorder } from '../../runtime/events.js';
import { isPlainObject } from '../../api/schema.js';
import { isDNSSubdomain } from '../../api/names.js';
import { LINUXPREP_PASSWORD_KEY, SYSPREP_SECRET_FIELDS } from '../../api/v1alpha6/secret-refs.js';
import { apiPath } from '../../runtime/api-path.js';
import { KubeAPIError, type KubeClient } from '../../runtime/kube-client.js';
import type { GuestIdentity, ObservedVM, VAppProperty, VMProvider } from '../../providers/interface.js';
import {
  bootstrapDataError,
  cloudInitMetadata,
  decodeRawUserData,
  MAX_DECODED_BYTES,
  renderCloudConfig,
  type SecretReader,
  type SecretRef,
} from './cloud-init.js';
import { deployedNetwork, interfacesOf, type ConfigInterface, type NetworkConfig } from './network-config.js';
import type { VM } from './types.js';

/** All Secret data (base64, as the API server sends it) one bootstrap may read: a few times MAX_DECODED_BYTES. */
export const MAX_SECRET_BYTES = 4 * MAX_DECODED_BYTES;

/** Set on the VM once its LinuxPrep/Sysprep customization was handed to vSphere (it is applied only once). */
export const CUSTOMIZED_ANNOTATION = 'vmop.dev/guest-customized';

/** A bootstrap write to vSphere, prepared by the reconcile and run by the power-on operation. */
export type BootstrapWrite = () => Promise<void>;

export class GuestBootstrap {
  constructor(
    private readonly client: KubeClient,
    private readonly provider: VMProvider,
    private readonly event: (...args: Parameters<EventRecorder['record']>) => void,
  ) {}

  /** LinuxPrep or Sysprep is asked for and has not been handed to vSphere yet. */
  needsCustomization(vm: VM): boolean {
    const b = vm.spec?.bootstrap;
    return !!(b?.linuxPrep || b?.sysprep) && !vm.metadata.annotations?.[CUSTOMIZED_ANNOTATION];
  }

  /**
   * The write of the Cloud-Init metadata and user data into the VM's guestinfo ExtraConfig. Secrets are read
   * from the VM's namespace now; a missing one is a UserInputError.
   */
  async cloudInit(vm: VM, observed: ObservedVM, networkConfig: NetworkConfig): Promise<BootstrapWrite> {
    const spec = vm.spec!;
    const ci = spec.bootstrap!.cloudInit!;
    const secret = this.secretReader(vm);
    let userData: string | undefined;
    if (ci.rawCloudConfig) {
      const field = 'spec.bootstrap.cloudInit.rawCloudConfig';
      userData = decodeRawUserData(await secret(ci.rawCloudConfig, field), field);
    } else if (ci.cloudConfig) userData = await renderCloudConfig(ci.cloudConfig, secret);
    const macs = await this.provider.nicMACs(observed);
    const interfaces = interfacesOf(deployedNetwork(vm)).map((i, n) => ({
      name: i.name,
      guestDeviceName: i.guestDeviceName,
      mtu: i.mtu,
      routes: i.routes,
      config: withGlobalDNS(networkConfig.interfaces?.[n] ?? { name: i.name }, networkConfig.dns, {
        nameservers: ci.useGlobalNameserversAsDefault !== false,
        searchDomains: ci.useGlobalSearchDomainsAsDefault !== false,
      }),
      mac: macs[n],
    }));
    const metadata = cloudInitMetadata({
      instanceID: ci.instanceID || spec.biosUUID!,
      hostName: networkConfig.dns.hostName,
      domainName: networkConfig.dns.domainName,
      interfaces,
      sshAuthorizedKeys: ci.sshAuthorizedKeys,
    });
    return () => this.provider.writeCloudInit(observed, { metadata, userData });
  }

  /**
   * The hand-over of the LinuxPrep or Sysprep customization to vSphere (CustomizeVM_Task, for the coming first
   * power-on), after which the VM is marked so it is never customized again. A manager that dies in between
   * finds the customization still pending, which counts as done.
   */
  async customization(vm: VM, observed: ObservedVM, networkConfig: NetworkConfig): Promise<BootstrapWrite> {
    const bootstrap = vm.spec!.bootstrap!;
    const secret = this.secretReader(vm);
    /** A script given inline or in a Secret key (ValueOrSecretKeySelector). */
    const script = async (v: { value?: string; from?: SecretRef } | undefined, field: string) =>
      v?.from ? secret(v.from, `${field}.from`) : v?.value;
    let identity: GuestIdentity;
    if (bootstrap.linuxPrep) {
      const lp = bootstrap.linuxPrep;
      identity = {
        kind: 'linuxPrep',
        timeZone: lp.timeZone,
        hardwareClockIsUTC: lp.hardwareClockIsUTC,
        password: lp.password
          ? await secret(
              { name: lp.password.name, key: lp.password.key || LINUXPREP_PASSWORD_KEY },
              'spec.bootstrap.linuxPrep.password',
            )
          : undefined,
        expirePassword: lp.expirePasswordAfterNextLogin,
        scriptText: await script(lp.scriptText, 'spec.bootstrap.linuxPrep.scriptText'),
      };
    } else {
      const sp = bootstrap.sysprep!;
      const field = 'spec.bootstrap.sysprep.rawSysprep';
      if (sp.rawSysprep) {
        identity = { kind: 'sysprep', rawXML: decodeRawUserData(await secret(sp.rawSysprep, field), field) };
      } else {
        const { gui, user, ident, runOnce, license, expirePassword, scriptText } = sysprepAnswers(sp.sysprep);
        // Each selector's key defaults as VM Operator defaults it (the table admission checks them by, too).
        const read = async (ref: SecretRef | undefined, at: string) => {
          if (!ref) return undefined;
          const defaultKey = SYSPREP_SECRET_FIELDS.find((f) => f.path.join('.') === at)!.defaultKey;
          return secret({ name: ref.name, key: ref.key || defaultKey }, `spec.bootstrap.sysprep.sysprep.${at}`);
        };
        identity = {
          kind: 'sysprep',
          timeZone: gui?.timeZone,
          autoLogon: gui?.autoLogon,
          autoLogonCount: gui?.autoLogonCount,
          password: await read(gui?.password, 'guiUnattended.password'),
          fullName: user?.fullName,
          orgName: user?.orgName,
          productID: await read(user?.productID, 'userData.productID'),
          domainAdmin: ident?.domainAdmin,
          domainAdminPassword: await read(ident?.domainAdminPassword, 'identification.domainAdminPassword'),
          domainOU: ident?.domainOU,
          joinWorkgroup: ident?.joinWorkgroup,
          runOnce,
          license,
          expirePassword,
          scriptText: await script(scriptText, 'spec.bootstrap.sysprep.sysprep.scriptText'),
        };
      }
    }
    return async () => {
      await this.provider.customizeGuest(observed, { identity, network: networkConfig });
      await this.client.request('PATCH', await this.client.objectPath(vm), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { [CUSTOMIZED_ANNOTATION]: new Date().toISOString() } } },
      });
      this.event(
        vm,
        'Normal',
        'GuestCustomization',
        `${bootstrap.linuxPrep ? 'LinuxPrep' : 'Sysprep'} customization handed to vSphere for the first power-on`,
      );
    };
  }

  /**
   * The write of the VM's vApp (OVF) properties from spec.bootstrap.vAppConfig — values, Secret keys, or every
   * pair of a Secret (rawProperties) — before a power-on; undefined when vSphere holds them already. Only
   * properties the image defines can be set.
   */
  async vAppProperties(vm: VM, observed: ObservedVM): Promise<BootstrapWrite | undefined> {
    const va = vm.spec!.bootstrap!.vAppConfig!;
    const secret = this.secretReader(vm);
    const wanted: [string, string][] = [];
    if (va.rawProperties) {
      const data = await this.secretData(
        vm.metadata.namespace!,
        va.rawProperties,
        'spec.bootstrap.vAppConfig.rawProperties',
      );
      if (!data) {
        throw bootstrapDataError(
          `spec.bootstrap.vAppConfig.rawProperties: Secret "${va.rawProperties}" not found in namespace ${vm.metadata.namespace}`,
          'SecretNotFound',
        );
      }
      for (const [k, v] of Object.entries(data)) wanted.push([k, Buffer.from(v, 'base64').toString('utf8')]);
    }
    for (const [i, p] of (va.properties ?? []).entries()) {
      const value = p.value?.from
        ? await secret(p.value.from, `spec.bootstrap.vAppConfig.properties[${i}].value.from`)
        : (p.value?.value ?? '');
      wanted.push([p.key, value]);
    }
    const props = await this.provider.vAppProperties(observed);
    const edits: VAppProperty[] = [];
    for (const [id, value] of wanted) {
      const prop = props.find((p) => p.id === id);
      if (!prop) {
        const known = props.map((p) => p.id).join(', ') || 'none';
        throw bootstrapDataError(
          `spec.bootstrap.vAppConfig: "${id}" is not a vApp property of this VM (its image defines: ${known})`,
          'UnknownVAppProperty',
        );
      }
      if (prop.value !== value) edits.push({ id, value });
    }
    return edits.length > 0 ? () => this.provider.setVAppProperties(observed, edits) : undefined;
  }

  /**
   * A Secret's data in the VM's namespace, or undefined when there is no such Secret. The name comes from the
   * tenant's spec: anything but a DNS subdomain is refused before a request is built (the path builder would
   * refuse it too), so no reference reaches another namespace or resource.
   */
  private async secretData(ns: string, name: string, field: string): Promise<Record<string, string> | undefined> {
    if (!isDNSSubdomain(name)) {
      throw bootstrapDataError(
        `${field}: Secret name ${JSON.stringify(name.slice(0, 80))} is not a valid name: it must be a DNS subdomain ` +
          '(lower case alphanumerics, "-" and ".", at most 253 characters) of a Secret in the VM\'s namespace',
        'InvalidSecretName',
      );
    }
    const obj = await this.client
      .request<{ data?: Record<string, string> }>(
        'GET',
        apiPath({ apiVersion: 'v1', resource: 'secrets', namespace: ns, name }),
      )
      .catch((err: unknown) => {
        if (err instanceof KubeAPIError && err.notFound) return undefined;
        throw err;
      });
    return obj ? (obj.data ?? {}) : undefined;
  }

  /**
   * Reads keys of Secrets in the VM's namespace (each Secret once); a missing one is a UserInputError. What
   * one bootstrap may read is bounded (MAX_SECRET_BYTES in all), so a VM naming many large Secrets cannot
   * exhaust the manager.
   */
  private secretReader(vm: VM): SecretReader {
    const ns = vm.metadata.namespace!;
    const secrets = new Map<string, Record<string, string> | undefined>();
    let read = 0;
    return async (ref, field) => {
      if (!secrets.has(ref.name)) {
        const data = await this.secretData(ns, ref.name, field);
        read += Object.values(data ?? {}).reduce((n, v) => n + v.length, 0);
        if (read > MAX_SECRET_BYTES) {
          throw bootstrapDataError(
            `${field}: the Secrets this VM's bootstrap names hold more than the limit of ${MAX_SECRET_BYTES} bytes in all`,
            'BootstrapDataTooLarge',
          );
        }
        secrets.set(ref.name, data);
      }
      const data = secrets.get(ref.name);
      if (!data)
        throw bootstrapDataError(`${field}: Secret "${ref.name}" not found in namespace ${ns}`, 'SecretNotFound');
      const value = Object.hasOwn(data, ref.key) ? data[ref.key] : undefined;
      if (value === undefined) {
        throw bootstrapDataError(`${field}: Secret "${ref.name}" has no key "${ref.key}"`, 'SecretKeyNotFound');
      }
      return Buffer.from(value, 'base64').toString('utf8');
    };
  }
}

/**
 * The parts of a Sysprep answer file (spec.bootstrap.sysprep.sysprep) that customization uses, each taken only
 * when it has the right type: objects stored before the API typed the answer file were stored as written.
 */
function sysprepAnswers(raw: unknown): {
  gui?: { timeZone?: number; autoLogon?: boolean; autoLogonCount?: number; password?: SecretRef };
  user?: { fullName?: string; orgName?: string; productID?: SecretRef };
  ident?: { domainAdmin?: string; domainAdminPassword?: SecretRef; domainOU?: string; joinWorkgroup?: string };
  runOnce?: string[];
  license?: { autoMode: 'perSeat' | 'perServer'; autoUsers?: number };
  expirePassword?: boolean;
  scriptText?: { value?: string; from?: SecretRef };
} {
  const obj = (v: unknown) => (isPlainObject(v) ? v : undefined);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const ref = (v: unknown): SecretRef | undefined => {
    const o = obj(v);
    return o && typeof o.name === 'string' ? { name: o.name, key: str(o.key) ?? '' } : undefined;
  };
  const root = obj(raw);
  const gui = obj(root?.guiUnattended);
  const user = obj(root?.userData);
  const ident = obj(root?.identification);
  const commands = obj(root?.guiRunOnce)?.commands;
  const license = obj(root?.licenseFilePrintData);
  const mode = license?.autoMode;
  const script = obj(root?.scriptText);
  return {
    gui: gui && {
      timeZone: num(gui.timeZone),
      autoLogon: typeof gui.autoLogon === 'boolean' ? gui.autoLogon : undefined,
      autoLogonCount: num(gui.autoLogonCount),
      password: ref(gui.password),
    },
    user: user && { fullName: str(user.fullName), orgName: str(user.orgName), productID: ref(user.productID) },
    ident: ident && {
      domainAdmin: str(ident.domainAdmin),
      domainAdminPassword: ref(ident.domainAdminPassword),
      domainOU: str(ident.domainOU),
      joinWorkgroup: str(ident.joinWorkgroup),
    },
    runOnce: Array.isArray(commands) ? commands.filter((c): c is string => typeof c === 'string') : undefined,
    license:
      mode === 'perSeat' || mode === 'perServer' ? { autoMode: mode, autoUsers: num(license?.autoUsers) } : undefined,
    expirePassword: root?.expirePasswordAfterNextLogin === true,
    scriptText: script && { value: str(script.value), from: ref(script.from) },
  };
}

/**
 * An interface's config as the guest gets it: Cloud-Init's network config (netplan) has DNS only per interface,
 * so the VM's nameservers and search domains (the spec's, or the operator ConfigMap's) go to every interface
 * that has none of its own — what status.network.config.dns shows reaches the guest — unless the spec's
 * cloudInit.useGlobalNameserversAsDefault / useGlobalSearchDomainsAsDefault say false (`use`).
 */
export function withGlobalDNS(
  iface: ConfigInterface,
  dns: NetworkConfig['dns'],
  use: { nameservers: boolean; searchDomains: boolean } = { nameservers: true, searchDomains: true },
): ConfigInterface {
  const nameservers = iface.dns?.nameservers?.length ? iface.dns.nameservers : use.nameservers ? dns.nameservers : [];
  const searchDomains = iface.dns?.searchDomains?.length
    ? iface.dns.searchDomains
    : use.searchDomains
      ? dns.searchDomains
      : [];
  if (!nameservers?.length && !searchDomains?.length) return iface;
  return {
    ...iface,
    dns: { ...(nameservers?.length ? { nameservers } : {}), ...(searchDomains?.length ? { searchDomains } : {}) },
  };
}
