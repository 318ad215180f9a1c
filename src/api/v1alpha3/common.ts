// Shared v1alpha3 building blocks: object references, secret selectors, key/value pairs and conditions.
import { s } from '../schema.js';

export const GROUP = 'vmoperator.vmware.com';
export const VERSION = 'v1alpha3';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const LocalObjectRef = s.object(
  {
    apiVersion: s.string({ description: 'API version of the referenced object.' }),
    kind: s.string({ description: 'Kind of the referenced object.' }),
    name: s.string({ description: 'Name of the referenced object, in the referrer’s namespace.' }),
  },
  { description: 'A reference to an object in the same namespace.' },
);

export const PartialObjectRef = s.object(
  {
    apiVersion: s.optional(s.string({ description: 'API version of the referenced object, when not the default.' })),
    kind: s.optional(s.string({ description: 'Kind of the referenced object, when not the default.' })),
    name: s.string({ description: 'Name of the referenced object, in the referrer’s namespace.' }),
  },
  { description: 'A reference by name, optionally with the API version and kind of the referenced object.' },
);

export const SecretKeySelector = s.object(
  {
    name: s.string({ description: 'Name of the Secret, in the referrer’s namespace.' }),
    key: s.string({ description: 'Key within the Secret whose value is used.' }),
  },
  { description: 'Selects one key of a Secret.' },
);

export const ValueOrSecretKeySelector = s.object(
  {
    from: s.optional(SecretKeySelector),
    value: s.optional(s.string({ description: 'The value itself. Mutually exclusive with from.' })),
  },
  { description: 'A value given inline, or read from a Secret key.' },
);

export const KeyValuePair = s.object({
  key: s.string({ description: 'The key.' }),
  value: s.optional(s.string({ description: 'The value.' })),
});

export const KeyValueOrSecretKeySelectorPair = s.object({
  key: s.string({ description: 'The key.' }),
  value: s.optional(ValueOrSecretKeySelector),
});

/** metav1.Condition, as the API server's own types define it. */
export const Condition = s.object(
  {
    type: s.string({ description: 'Type of the condition, in CamelCase.', maxLength: 316 }),
    status: s.enum(['True', 'False', 'Unknown'] as const, { description: 'Status of the condition.' }),
    observedGeneration: s.optional(s.int64({ description: 'The .metadata.generation the condition was set from.' })),
    lastTransitionTime: s.string({ format: 'date-time', description: 'When the status last changed.' }),
    reason: s.string({ description: 'Programmatic identifier of the last transition, in CamelCase.', maxLength: 1024 }),
    message: s.string({ description: 'Human-readable details of the last transition.', maxLength: 32768 }),
  },
  { description: 'One aspect of the observed state.' },
);

export const Conditions = s.array(Condition, {
  description: 'Observed conditions.',
  listType: 'map',
  listMapKeys: ['type'],
});

/** The metadata every object carries; the API server validates it, so the schema only types it. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

/** An object of a kind: its type meta, metadata, spec and status. */
export interface KindObject<K extends string, Spec, Status> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
}
