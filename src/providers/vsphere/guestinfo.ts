// Cloud-Init data where VMware's guestinfo datasource reads it: the ExtraConfig keys guestinfo.metadata and
// guestinfo.userdata, each gzipped and base64-encoded, with their .encoding keys.
import { UserInputError } from '../../runtime/errors.js';
import { gzipSync } from 'node:zlib';

/**
 * The largest value one guestinfo key may hold once encoded: VM Tools read guestinfo values of at most 64 KiB
 * (and all of them live in the VM's .vmx file, 1 MiB by default).
 */
export const MAX_GUESTINFO_VALUE_BYTES = 64 * 1024;

const encode = (text: string) => gzipSync(Buffer.from(text, 'utf8')).toString('base64');

/**
 * The guestinfo ExtraConfig keys for the metadata and (optional) user data. A value over the guestinfo limit
 * once encoded is a UserInputError that names the limit (the guest could not read it).
 */
export function guestInfo(metadata: string, userData?: string): Record<string, string> {
  const entries: Record<string, string> = {
    'guestinfo.metadata': encode(metadata),
    'guestinfo.metadata.encoding': 'gzip+base64',
    ...(userData !== undefined
      ? { 'guestinfo.userdata': encode(userData), 'guestinfo.userdata.encoding': 'gzip+base64' }
      : {}),
  };
  for (const key of ['guestinfo.metadata', 'guestinfo.userdata']) {
    const size = entries[key]?.length ?? 0;
    if (size > MAX_GUESTINFO_VALUE_BYTES) {
      throw new UserInputError(
        `${key === 'guestinfo.userdata' ? 'Cloud-Init user data' : 'Cloud-Init metadata'} is ${size} bytes once ` +
          `gzipped and base64-encoded, over the limit of ${MAX_GUESTINFO_VALUE_BYTES} bytes per guestinfo value`,
        'BootstrapDataTooLarge',
      );
    }
  }
  return entries;
}
