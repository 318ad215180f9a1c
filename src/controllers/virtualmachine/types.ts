// The VirtualMachine as the VM controller and its helpers read it: the spec fields they act on and the status
// they write (the API schema itself lives in src/api/v1alpha3).
import type { PowerOpMode, PowerState } from '../../api/v1alpha3/virtualmachine.js';
import type { KubeObject } from '../../runtime/kube-client.js';
import type { Condition } from '../../runtime/status.js';
import type { CloudConfigLike, SecretRef } from './cloud-init.js';
import type { NetworkSpecLike } from './network-config.js';
import type { VolumeSpecLike } from './volumes.js';

export interface VolumeStatus {
  name: string;
  type: 'Managed';
  attached: boolean;
  diskUUID?: string;
  limit?: string;
  error?: string;
}

export interface VMStatus {
  uniqueID?: string;
  instanceUUID?: string;
  biosUUID?: string;
  powerState?: PowerState;
  host?: string;
  zone?: string;
  hardwareVersion?: number;
  class?: { apiVersion: string; kind: string; name: string };
  lastRestartTime?: string;
  volumes?: VolumeStatus[];
  conditions?: Condition[];
  [key: string]: unknown;
}

export interface VM extends KubeObject {
  metadata: KubeObject['metadata'] & {
    uid?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
  };
  spec?: {
    className?: string;
    imageName?: string;
    image?: { kind?: string; name?: string };
    storageClass?: string;
    powerState?: PowerState;
    powerOffMode?: PowerOpMode;
    suspendMode?: PowerOpMode;
    restartMode?: PowerOpMode;
    nextRestartTime?: string;
    instanceUUID?: string;
    biosUUID?: string;
    guestID?: string;
    network?: NetworkSpecLike & {
      interfaces?: (NonNullable<NetworkSpecLike['interfaces']>[number] & {
        guestDeviceName?: string;
        mtu?: number;
        routes?: { to: string; via: string; metric?: number }[];
      })[];
    };
    volumes?: VolumeSpecLike[];
    bootstrap?: {
      cloudInit?: {
        instanceID?: string;
        cloudConfig?: CloudConfigLike;
        rawCloudConfig?: SecretRef;
        sshAuthorizedKeys?: string[];
      };
      linuxPrep?: { hardwareClockIsUTC?: boolean; timeZone?: string };
      vAppConfig?: {
        properties?: { key: string; value?: { value?: string; from?: SecretRef } }[];
        rawProperties?: string;
      };
      sysprep?: {
        sysprep?: {
          guiUnattended?: { timeZone?: number; autoLogon?: boolean; autoLogonCount?: number; password?: SecretRef };
          userData?: { fullName?: string; orgName?: string; productID?: SecretRef };
          identification?: { domainAdmin?: string; domainAdminPassword?: SecretRef; joinWorkgroup?: string };
        };
        rawSysprep?: SecretRef;
      };
    };
  };
  status?: VMStatus;
}
