// How fast (and how reliable) the local vCenter is. vcsim finishes every task in milliseconds; a real vCenter
// takes tens of seconds to deploy or clone and seconds to power on or reconfigure. The "realistic" profile
// gives vcsim those times (through vmop's launcher: tools/govmomi/vcsim), "instant" is vcsim as it is (the
// default). VMOP_VCSIM_ARGS adds launcher arguments after the profile's, so they win: faults, other delays.

export const VCENTER_PROFILES = ['instant', 'realistic'] as const;
export type VCenterProfile = (typeof VCENTER_PROFILES)[number];

/** The realistic profile, in milliseconds (jitter: the delays' coefficient of variation). */
export const REALISTIC = {
  deploy: 45_000,
  clone: 20_000,
  powerOn: 3_000,
  powerOff: 2_000,
  reconfigure: 2_000,
  /** Attaching (and detaching) a disk. */
  attachDisk: 3_000,
  customize: 2_000,
  destroy: 3_000,
  /** Every other SOAP call. */
  otherCall: 20,
  jitter: 0.3,
} as const;

/** vcsim's task names for the profile's operations (the work of the task, after the call has answered). */
const TASKS: [string, keyof typeof REALISTIC][] = [
  ['CloneVm', 'clone'],
  ['PowerOn', 'powerOn'],
  ['PowerOff', 'powerOff'],
  ['ReconfigVm', 'reconfigure'],
  ['AttachDisk', 'attachDisk'],
  ['DetachDisk', 'attachDisk'],
  ['CustomizeVm', 'customize'],
  ['Destroy', 'destroy'],
];

export function parseProfile(value: string | undefined, flag = 'vcenter'): VCenterProfile {
  const v = value ?? 'instant';
  if ((VCENTER_PROFILES as readonly string[]).includes(v)) return v as VCenterProfile;
  throw new Error(`--${flag} must be one of ${VCENTER_PROFILES.join(', ')} (got "${v}")`);
}

/**
 * The launcher arguments of a profile; `scale` shortens every delay (0.1: a 45 s deploy takes 4.5 s), for
 * tests and benchmarks that must end in minutes.
 */
export function profileArgs(profile: VCenterProfile, scale = 1): string[] {
  if (profile === 'instant') return [];
  const ms = (v: number) => Math.max(1, Math.round(v * scale));
  return [
    '-delay',
    String(ms(REALISTIC.otherCall)),
    '-method-delay',
    TASKS.map(([task, key]) => `${task}:${ms(REALISTIC[key])}`).join(','),
    '-deploy-delay',
    `${ms(REALISTIC.deploy)}ms`,
    '-delay-jitter',
    String(REALISTIC.jitter),
  ];
}

/** Extra launcher arguments from VMOP_VCSIM_ARGS (split on white space), to go after every other argument. */
export function extraVcsimArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.VMOP_VCSIM_ARGS ?? '').split(/\s+/).filter(Boolean);
}
