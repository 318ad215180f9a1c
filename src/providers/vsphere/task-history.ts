// A VM's recent vSphere tasks in plain terms (what ran, how it ended, who started it, vSphere's error text), for
// people asking why a VM is not Ready (`kubectl vm describe`); vSphere's TaskInfo stays below this file.
import { recentTasks } from '../../vsphere/tasks.js';
import type { Connection } from './session.js';

export interface VMTask {
  /** What ran: vSphere's description ID (VirtualMachine.powerOn) or else its method (PowerOnVM_Task). */
  operation: string;
  state: 'queued' | 'running' | 'success' | 'error' | 'unknown';
  /** When it was queued (ISO 8601), if vSphere says. */
  queued?: string;
  /** Seconds from start to completion, for a finished task. */
  seconds?: number;
  /** The vSphere user that started it. */
  user?: string;
  /** For a failed task: the fault type and vSphere's message. */
  error?: string;
}

/** The latest `max` tasks vSphere ran on the VM with managed object ID `vmID` (status.uniqueID), newest first. */
export async function vmTasks(conn: Connection, vmID: string, max = 10): Promise<VMTask[]> {
  const tasks = await recentTasks(conn.api.client, { type: 'VirtualMachine', value: vmID }, max);
  return tasks.map((t) => {
    const started = Date.parse(String(t.startTime ?? ''));
    const completed = Date.parse(String(t.completeTime ?? ''));
    const fault = t.error?.fault?._typeName;
    return {
      operation: String(t.descriptionId || t.name || '(unnamed)'),
      state: t.state ?? 'unknown',
      queued: t.queueTime ? String(t.queueTime) : undefined,
      seconds: Number.isFinite(started) && Number.isFinite(completed) ? (completed - started) / 1000 : undefined,
      user: t.reason?.userName ? String(t.reason.userName) : undefined,
      error:
        t.state === 'error'
          ? [fault ? String(fault) : '', t.error?.localizedMessage ?? ''].filter(Boolean).join(': ') || 'failed'
          : undefined,
    };
  });
}
