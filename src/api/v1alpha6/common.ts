// Shared building blocks of the hub version (v1alpha6): v1alpha3's references, selectors and conditions, which
// no later version changed, under the hub's version name.
export * from '../v1alpha3/common.js';

export const VERSION = 'v1alpha6';
export const API_VERSION = `vmoperator.vmware.com/${VERSION}`;
