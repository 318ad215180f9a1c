// The local vCenter's profiles: the launcher arguments that give vcsim a real vCenter's times, scaled for tests,
// and VMOP_VCSIM_ARGS after them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extraVcsimArgs, parseProfile, profileArgs } from '../../src/devenv/vcenter-profile.js';

function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

describe('vCenter profiles', () => {
  it('gives vcsim nothing extra on the instant profile', () => {
    assert.deepEqual(profileArgs('instant'), []);
  });

  it('gives the realistic profile the documented times', () => {
    const args = profileArgs('realistic');
    assert.equal(flagValue(args, '-deploy-delay'), '45000ms');
    assert.equal(flagValue(args, '-delay'), '20');
    assert.equal(flagValue(args, '-delay-jitter'), '0.3');
    const tasks = Object.fromEntries(
      flagValue(args, '-method-delay')!
        .split(',')
        .map((p) => p.split(':') as [string, string]),
    );
    assert.deepEqual(tasks, {
      CloneVm: '20000',
      PowerOn: '3000',
      PowerOff: '2000',
      ReconfigVm: '2000',
      AttachDisk: '3000',
      DetachDisk: '3000',
      CustomizeVm: '2000',
      Destroy: '3000',
    });
  });

  it('scales every delay for tests and benchmarks, never to zero', () => {
    const args = profileArgs('realistic', 0.01);
    assert.equal(flagValue(args, '-deploy-delay'), '450ms');
    assert.equal(flagValue(args, '-delay'), '1');
    assert.match(flagValue(args, '-method-delay')!, /PowerOn:30,/);
  });

  it('refuses an unknown profile, naming the flag and the choices', () => {
    assert.equal(parseProfile(undefined), 'instant');
    assert.equal(parseProfile('realistic'), 'realistic');
    assert.throws(() => parseProfile('slow'), /--vcenter must be one of instant, realistic \(got "slow"\)/);
  });

  it('reads VMOP_VCSIM_ARGS as white-space separated arguments', () => {
    assert.deepEqual(
      extraVcsimArgs({ VMOP_VCSIM_ARGS: ' -fault  PowerOnVM_Task:0.05:TaskInProgress\n-session-ttl 60s ' }),
      ['-fault', 'PowerOnVM_Task:0.05:TaskInProgress', '-session-ttl', '60s'],
    );
    assert.deepEqual(extraVcsimArgs({}), []);
  });
});
