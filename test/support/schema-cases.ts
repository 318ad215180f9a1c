// Structurally wrong objects, one per row: what is wrong, the field the API server must name, and the words
// its message must contain. Shared by the unit test of src/api/schema.ts and the API server test, so both
// sides of the one schema source are held to the same table.
export interface SchemaCase {
  name: string;
  kind: 'VirtualMachine' | 'VirtualMachineClass';
  spec: Record<string, unknown>;
  field: string;
  message: RegExp;
}

const base = { className: 'my-vm-class', imageName: 'vmi-0a0044d7c690bcbea', storageClass: 'my-storage-class' };

export const SCHEMA_CASES: SchemaCase[] = [
  {
    name: 'rejects an unknown power state',
    kind: 'VirtualMachine',
    spec: { ...base, powerState: 'Sideways' },
    field: 'spec.powerState',
    message: /Unsupported value: "Sideways": supported values: "PoweredOff", "PoweredOn", "Suspended"/,
  },
  {
    name: 'rejects an unknown power-off mode',
    kind: 'VirtualMachine',
    spec: { ...base, powerOffMode: 'Gentle' },
    field: 'spec.powerOffMode',
    message: /Unsupported value: "Gentle": supported values: "Hard", "Soft", "TrySoft"/,
  },
  {
    name: 'rejects an unknown restart mode',
    kind: 'VirtualMachine',
    spec: { ...base, restartMode: 'Later' },
    field: 'spec.restartMode',
    message: /Unsupported value: "Later"/,
  },
  {
    name: 'rejects a non-boolean network.disabled',
    kind: 'VirtualMachine',
    spec: { ...base, network: { disabled: 'yes' } },
    field: 'spec.network.disabled',
    message: /must be of type boolean/,
  },
  {
    name: 'rejects an interface name that is not lowercase letters and digits',
    kind: 'VirtualMachine',
    spec: { ...base, network: { interfaces: [{ name: 'Eth 0' }] } },
    field: 'spec.network.interfaces[0].name',
    message: /should match '\^\[a-z0-9\]\{2,\}\$'/,
  },
  {
    name: 'rejects more than 10 interfaces',
    kind: 'VirtualMachine',
    spec: { ...base, network: { interfaces: Array.from({ length: 11 }, (_, i) => ({ name: `eth${i}` })) } },
    field: 'spec.network.interfaces',
    message: /must have at most 10 items/,
  },
  {
    name: 'rejects an interface without a name',
    kind: 'VirtualMachine',
    spec: { ...base, network: { interfaces: [{ dhcp4: true }] } },
    field: 'spec.network.interfaces[0].name',
    message: /Required value/,
  },
  {
    name: 'rejects a minimum hardware version below 13',
    kind: 'VirtualMachine',
    spec: { ...base, minHardwareVersion: 5 },
    field: 'spec.minHardwareVersion',
    message: /should be greater than or equal to 13/,
  },
  {
    name: 'rejects a string where the MTU integer goes',
    kind: 'VirtualMachine',
    spec: { ...base, network: { interfaces: [{ name: 'eth0', mtu: 'jumbo' }] } },
    field: 'spec.network.interfaces[0].mtu',
    message: /must be of type integer/,
  },
  {
    name: 'rejects a volume without a PVC claim name',
    kind: 'VirtualMachine',
    spec: { ...base, volumes: [{ name: 'disk1', persistentVolumeClaim: {} }] },
    field: 'spec.volumes[0].persistentVolumeClaim.claimName',
    message: /Required value/,
  },
  {
    name: 'rejects a readiness timeout above 60 seconds',
    kind: 'VirtualMachine',
    spec: { ...base, readinessProbe: { timeoutSeconds: 61 } },
    field: 'spec.readinessProbe.timeoutSeconds',
    message: /should be less than or equal to 60/,
  },
  {
    name: 'rejects an unknown write_files encoding',
    kind: 'VirtualMachine',
    spec: {
      ...base,
      bootstrap: { cloudInit: { cloudConfig: { write_files: [{ path: '/x', encoding: 'rot13' }] } } },
    },
    field: 'spec.bootstrap.cloudInit.cloudConfig.write_files[0].encoding',
    message: /Unsupported value: "rot13"/,
  },
  {
    name: 'rejects a class whose cpus is not an integer',
    kind: 'VirtualMachineClass',
    spec: { hardware: { cpus: 'two', memory: '4Gi' } },
    field: 'spec.hardware.cpus',
    message: /must be of type integer/,
  },
  {
    name: 'rejects a class memory that is not a quantity',
    kind: 'VirtualMachineClass',
    spec: { hardware: { cpus: 2, memory: '4 GB' } },
    field: 'spec.hardware.memory',
    message: /should match/,
  },
  {
    name: 'rejects a class configSpec that is not an object',
    kind: 'VirtualMachineClass',
    spec: { configSpec: 'VirtualMachineConfigSpec' },
    field: 'spec.configSpec',
    message: /must be of type object/,
  },
];
