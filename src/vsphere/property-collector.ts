// The property collector: read chosen properties of many objects in one call (with paging), list objects
// under a container view, and follow changes with WaitForUpdatesEx versions (the change feed the operator
// uses instead of polling).
import type { VimClient } from './client.js';
import { VimFault } from './faults.js';
import type { MoRef, VimObject } from './vim25/codec.js';

export interface ObjectContent {
  obj: MoRef;
  propSet?: { name: string; val: unknown }[];
  missingSet?: { path: string; fault: { fault?: VimObject; localizedMessage?: string } }[];
}

export interface RetrievedObject {
  obj: MoRef;
  /** Property path → value, for the properties that were found. */
  props: Record<string, unknown>;
  /** Property paths that could not be read, with the fault type. */
  missing: Record<string, string>;
}

interface RetrieveResult {
  token?: string;
  objects?: ObjectContent[];
}

export function flatten(o: ObjectContent): RetrievedObject {
  const props: Record<string, unknown> = {};
  for (const p of o.propSet ?? []) props[p.name] = p.val;
  const missing: Record<string, string> = {};
  for (const m of o.missingSet ?? []) missing[m.path] = String(m.fault.fault?._typeName ?? 'unknown');
  return { obj: o.obj, props, missing };
}

/** A traversal from a ContainerView to its objects. */
export function viewTraversal(view: MoRef): VimObject {
  return {
    _typeName: 'ObjectSpec',
    obj: view,
    skip: true,
    selectSet: [{ _typeName: 'TraversalSpec', type: 'ContainerView', path: 'view', skip: false }],
  };
}

export class PropertyCollector {
  constructor(
    readonly client: VimClient,
    readonly ref: MoRef = client.serviceContent.propertyCollector,
  ) {}

  /** RetrievePropertiesEx, following ContinueRetrievePropertiesEx tokens until every page is read. */
  async retrieve(
    specSet: VimObject[],
    opts: { pageSize?: number; signal?: AbortSignal } = {},
  ): Promise<ObjectContent[]> {
    const options: VimObject = {
      _typeName: 'RetrieveOptions',
      ...(opts.pageSize ? { maxObjects: opts.pageSize } : {}),
    };
    let result = await this.client.call<RetrieveResult | undefined>(
      'RetrievePropertiesEx',
      this.ref,
      { specSet, options },
      opts.signal,
    );
    const out: ObjectContent[] = [...(result?.objects ?? [])];
    while (result?.token) {
      result = await this.client.call<RetrieveResult | undefined>(
        'ContinueRetrievePropertiesEx',
        this.ref,
        { token: result.token },
        opts.signal,
      );
      out.push(...(result?.objects ?? []));
    }
    return out;
  }

  /** Chosen properties of objects of one type, in one call. */
  async properties(
    objs: MoRef[],
    type: string,
    paths: string[],
    opts: { pageSize?: number } = {},
  ): Promise<RetrievedObject[]> {
    if (objs.length === 0) return [];
    const contents = await this.retrieve(
      [
        {
          _typeName: 'PropertyFilterSpec',
          propSet: [{ _typeName: 'PropertySpec', type, pathSet: paths, all: paths.length === 0 }],
          objectSet: objs.map((obj) => ({ _typeName: 'ObjectSpec', obj, skip: false })),
        },
      ],
      opts,
    );
    return contents.map(flatten);
  }

  /** Properties of one object; throws when vSphere does not know it. */
  async one(obj: MoRef, paths: string[]): Promise<Record<string, unknown>> {
    const [found] = await this.properties([obj], obj.type, paths);
    return found?.props ?? {};
  }

  /**
   * Every object of the given types under `container` (the root folder by default), with chosen properties.
   * A view belongs to the session that made it: when the session expired between making the view and reading
   * it (the client logged in again) or an object went while it was read, vSphere answers
   * ManagedObjectNotFound, and the read starts again with a new view (three tries in all).
   */
  async containerObjects(
    types: string[],
    paths: string[],
    opts: { container?: MoRef; pageSize?: number } = {},
  ): Promise<RetrievedObject[]> {
    for (let attempt = 1; ; attempt++) {
      const view = await this.createContainerView(types, opts.container);
      try {
        const contents = await this.retrieve(
          [
            {
              _typeName: 'PropertyFilterSpec',
              propSet: types.map((type) => ({ _typeName: 'PropertySpec', type, pathSet: paths, all: false })),
              objectSet: [viewTraversal(view)],
            },
          ],
          { pageSize: opts.pageSize },
        );
        return contents.map(flatten);
      } catch (err) {
        if (!(err instanceof VimFault && err.is('ManagedObjectNotFound')) || attempt >= 3) throw err;
      } finally {
        await this.client.call('DestroyView', view).catch(() => undefined);
      }
    }
  }

  async createContainerView(types: string[], container?: MoRef): Promise<MoRef> {
    const viewManager = this.client.serviceContent.viewManager;
    if (!viewManager) throw new Error('this endpoint has no ViewManager');
    return this.client.call<MoRef>('CreateContainerView', viewManager, {
      container: container ?? this.client.serviceContent.rootFolder,
      type: types,
      recursive: true,
    });
  }

  /** A collector of its own, so a change feed's filters and versions do not mix with other callers'. */
  async createCollector(): Promise<PropertyCollector> {
    const ref = await this.client.call<MoRef>('CreatePropertyCollector', this.ref);
    return new PropertyCollector(this.client, ref);
  }

  async destroy(): Promise<void> {
    await this.client.call('DestroyPropertyCollector', this.ref);
  }

  async createFilter(spec: VimObject, partialUpdates = true): Promise<MoRef> {
    return this.client.call<MoRef>('CreateFilter', this.ref, { spec, partialUpdates });
  }

  async destroyFilter(filter: MoRef): Promise<void> {
    await this.client.call('DestroyPropertyFilter', filter);
  }

  /** One WaitForUpdatesEx: the changes since `version`, or undefined when `maxWaitSeconds` pass without any. */
  async waitForUpdates(
    version: string,
    opts: { maxWaitSeconds?: number; maxObjectUpdates?: number; signal?: AbortSignal } = {},
  ): Promise<UpdateSet | undefined> {
    return this.client.call<UpdateSet | undefined>(
      'WaitForUpdatesEx',
      this.ref,
      {
        version,
        options: {
          _typeName: 'WaitOptions',
          ...(opts.maxWaitSeconds !== undefined ? { maxWaitSeconds: opts.maxWaitSeconds } : {}),
          ...(opts.maxObjectUpdates ? { maxObjectUpdates: opts.maxObjectUpdates } : {}),
        },
      },
      opts.signal,
    );
  }
}

export interface ObjectUpdate {
  kind: 'enter' | 'modify' | 'leave';
  obj: MoRef;
  changeSet?: { name: string; op: 'add' | 'remove' | 'assign' | 'indirectRemove'; val?: unknown }[];
}

export interface UpdateSet {
  version: string;
  truncated?: boolean;
  filterSet?: { filter: MoRef; objectSet?: ObjectUpdate[] }[];
}
