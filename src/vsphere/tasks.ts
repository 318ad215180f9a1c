// Waiting for vSphere tasks through the property collector (as vCenter intends, rather than polling each
// task): progress callbacks, a timeout, cancellation, and the task's error surfaced as a typed VimFault.
import type { VimClient } from './client.js';
import { VimFault } from './faults.js';
import { PropertyCollector } from './property-collector.js';
import type { MoRef, VimObject } from './vim25/codec.js';

export interface TaskInfo {
  state?: 'queued' | 'running' | 'success' | 'error';
  progress?: number;
  result?: unknown;
  error?: { fault?: VimObject; localizedMessage?: string };
  descriptionId?: string;
  entity?: MoRef;
}

export interface WaitOptions {
  timeoutMs?: number;
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
}

export class TaskTimeoutError extends Error {
  readonly retryable = true;
  constructor(
    readonly task: MoRef,
    timeoutMs: number,
  ) {
    super(`task ${task.value} did not finish within ${timeoutMs} ms`);
    this.name = 'TaskTimeoutError';
  }
}

export function taskFault(task: MoRef, info: TaskInfo): VimFault {
  const fault = info.error?.fault ?? {};
  const { _typeName, ...fields } = fault;
  return new VimFault(
    String(_typeName ?? 'SystemError'),
    info.error?.localizedMessage ?? 'task failed',
    fields,
    `task ${task.value}`,
  );
}

/** Waits until `task` succeeds (resolving with its result) or fails (rejecting with its fault). */
export async function waitForTask(client: VimClient, task: MoRef, opts: WaitOptions = {}): Promise<unknown> {
  const collector = await new PropertyCollector(client).createCollector();
  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Infinity;
  try {
    await collector.createFilter(
      {
        _typeName: 'PropertyFilterSpec',
        propSet: [
          {
            _typeName: 'PropertySpec',
            type: 'Task',
            pathSet: ['info.state', 'info.progress', 'info.result', 'info.error'],
          },
        ],
        objectSet: [{ _typeName: 'ObjectSpec', obj: task, skip: false }],
      },
      false,
    );
    const info: TaskInfo = {};
    let version = '';
    for (;;) {
      if (opts.signal?.aborted) throw new Error(`waiting for task ${task.value} was cancelled`);
      const left = deadline - Date.now();
      if (left <= 0) throw new TaskTimeoutError(task, opts.timeoutMs ?? 0);
      const wait = Math.max(1, Math.min(60, Math.ceil(left / 1000)));
      const set = await collector.waitForUpdates(version, { maxWaitSeconds: wait, signal: opts.signal });
      if (!set) continue;
      version = set.version;
      for (const fs of set.filterSet ?? []) {
        for (const update of fs.objectSet ?? []) {
          for (const change of update.changeSet ?? []) {
            const key = change.name.replace(/^info\./, '') as keyof TaskInfo;
            (info as Record<string, unknown>)[key] = change.op === 'remove' ? undefined : change.val;
          }
        }
      }
      if (info.progress !== undefined) opts.onProgress?.(info.progress);
      if (info.state === 'success') return info.result;
      if (info.state === 'error') throw taskFault(task, info);
    }
  } finally {
    await collector.destroy().catch(() => undefined);
  }
}

/** One task as vCenter's task history keeps it (TaskInfo). */
export interface TaskHistoryEntry extends TaskInfo {
  key?: string;
  /** The method that started it, e.g. PowerOnVM_Task. */
  name?: string;
  entityName?: string;
  queueTime?: string;
  startTime?: string;
  completeTime?: string;
  reason?: VimObject & { userName?: string };
}

/**
 * The latest tasks (at most `max`, newest first) whose entity is `entity` itself, from a task history collector
 * made for this read and destroyed after it (vCenter allows each session a few dozen collectors).
 */
export async function recentTasks(client: VimClient, entity: MoRef, max: number): Promise<TaskHistoryEntry[]> {
  const taskManager = client.serviceContent.taskManager;
  if (!taskManager) throw new Error('this endpoint has no TaskManager');
  const collector = await client.call<MoRef>('CreateCollectorForTasks', taskManager, {
    filter: {
      _typeName: 'TaskFilterSpec',
      entity: { _typeName: 'TaskFilterSpecByEntity', entity, recursion: 'self' },
    },
  });
  try {
    await client.call('SetCollectorPageSize', collector, { maxCount: max });
    const props = await new PropertyCollector(client).one(collector, ['latestPage']);
    const page = (props.latestPage ?? []) as TaskHistoryEntry[];
    const when = (t: TaskHistoryEntry) => Date.parse(String(t.queueTime ?? t.startTime ?? '')) || 0;
    return [...page].sort((a, b) => when(b) - when(a)).slice(0, max);
  } finally {
    await client.call('DestroyCollector', collector).catch(() => undefined);
  }
}
