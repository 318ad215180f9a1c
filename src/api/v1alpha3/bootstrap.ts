// Guest bootstrap providers of a VirtualMachine (spec.bootstrap): Cloud-Init, LinuxPrep, Sysprep and vApp
// properties. Which combinations are allowed is decided by the admission webhooks, not here.
import { s } from '../schema.js';
import { KeyValueOrSecretKeySelectorPair, SecretKeySelector } from './common.js';

const optStr = (description: string) => s.optional(s.string({ description }));
const optBool = (description: string) => s.optional(s.boolean({ description }));

export const CloudConfigUser = s.object({
  name: s.string({ description: 'Login name; "default" (first entry only, no other fields) means the image’s user.' }),
  create_groups: optBool('Create the listed groups.'),
  expiredate: optStr('Date the account is disabled.'),
  gecos: optStr('Comment, usually the real name.'),
  groups: s.optional(s.array(s.string(), { description: 'Groups to add the user to.' })),
  hashed_passwd: s.optional(s.object(SecretKeySelector.props, { description: 'Password hash, always applied.' })),
  homedir: optStr('Home directory.'),
  inactive: s.optional(s.int32({ description: 'Days until the account is disabled.' })),
  lock_passwd: optBool('Disable password login.'),
  no_create_home: optBool('Do not create a home directory.'),
  no_log_init: optBool('Do not initialise lastlog and faillog.'),
  no_user_group: optBool('Do not create a group named after the user.'),
  passwd: s.optional(s.object(SecretKeySelector.props, { description: 'Password hash for a new user.' })),
  primary_group: optStr('Primary group.'),
  selinux_user: optStr('SELinux user.'),
  shell: optStr('Login shell.'),
  snapuser: optStr('E-mail address of a Snappy user.'),
  ssh_authorized_keys: s.optional(s.array(s.string(), { description: 'SSH public keys.' })),
  ssh_import_id: s.optional(s.array(s.string(), { description: 'SSH IDs to import.' })),
  ssh_redirect_user: optBool('Refuse SSH logins as this user.'),
  sudo: optStr('Sudo rule.'),
  system: optBool('Create a system user.'),
  uid: s.optional(s.int64({ description: 'User ID.' })),
});

export const CloudConfigWriteFile = s.object({
  path: s.string({ description: 'Path of the file in the guest.' }),
  append: optBool('Append to an existing file.'),
  content: s.optional(s.freeValue({ description: 'Content: a string, or {name, key} of a Secret that holds it.' })),
  defer: optBool('Write in the final stage, after users and packages.'),
  encoding: s.optional(
    s.enum(['b64', 'base64', 'gz', 'gzip', 'gz+b64', 'gz+base64', 'gzip+b64', 'gzip+base64', 'text/plain'] as const, {
      default: 'text/plain',
      description: 'Encoding of the content.',
    }),
  ),
  owner: s.optional(s.string({ default: 'root:root', description: 'owner:group of the file.' })),
  permissions: s.optional(s.string({ default: '0644', description: 'Octal permissions, e.g. "0644".' })),
});

export const CloudConfig = s.object(
  {
    timezone: optStr('Time zone, as in /usr/share/zoneinfo.'),
    defaultUserEnabled: optBool('Keep the image’s default user even when users are listed.'),
    users: s.optional(s.array(CloudConfigUser, { listType: 'map', listMapKeys: ['name'] })),
    runcmd: s.optional(s.freeValue({ description: 'Commands to run: strings, or lists of command and arguments.' })),
    write_files: s.optional(s.array(CloudConfigWriteFile, { listType: 'map', listMapKeys: ['path'] })),
    ssh_pwauth: optBool('Accept SSH password authentication.'),
  },
  { description: 'The part of a Cloud-Init cloud-config that the API models.' },
);

export const CloudInitSpec = s.object(
  {
    instanceID: optStr('Cloud-Init instance ID; the BIOS UUID when omitted.'),
    cloudConfig: s.optional(CloudConfig),
    rawCloudConfig: s.optional(
      s.object(SecretKeySelector.props, {
        description:
          'Secret key holding the cloud-config (plain, base64, or gzip+base64). Mutually exclusive with ' +
          'cloudConfig.',
      }),
    ),
    sshAuthorizedKeys: s.optional(
      s.array(s.string(), { description: 'SSH public keys for the guest’s default user.' }),
    ),
    useGlobalNameserversAsDefault: optBool(
      'Interfaces without nameservers of their own get the global ones (spec.network.nameservers); true when omitted.',
    ),
    useGlobalSearchDomainsAsDefault: optBool(
      'Interfaces without search domains of their own get the global ones; true when omitted.',
    ),
  },
  { description: 'Bootstrap with Cloud-Init (or Cloudbase-Init); excludes the other providers.' },
);

export const LinuxPrepSpec = s.object(
  {
    hardwareClockIsUTC: optBool('The hardware clock runs in UTC.'),
    timeZone: optStr('Time zone in Area/Location form, e.g. Europe/Sofia (case-sensitive).'),
  },
  { description: 'Bootstrap a Linux guest with guest OS customization; may be combined with vAppConfig.' },
);

/** A Secret key selector of the Sysprep answers, whose key defaults as VM Operator defaults it. */
const sysprepSelector = (defaultKey: string, description: string) =>
  s.object(
    {
      name: s.string({ description: 'Name of the Secret, in the VM’s namespace.' }),
      key: s.string({ default: defaultKey, description: `Key within the Secret (${defaultKey}).` }),
    },
    { description },
  );

/** The Sysprep answer file (sysprep.xml) as VM Operator models it, part by part. */
export const SysprepAnswers = s.object(
  {
    guiRunOnce: s.optional(
      s.object(
        { commands: s.optional(s.array(s.string(), { description: 'Commands run at the first log-on, in order.' })) },
        { description: 'The GuiRunOnce key: commands run when a user first logs on.' },
      ),
    ),
    guiUnattended: s.optional(
      s.object(
        {
          autoLogon: optBool('Log on as Administrator automatically (needs autoLogonCount and password).'),
          autoLogonCount: s.optional(s.int32({ description: 'How many times to log on automatically.' })),
          password: s.optional(sysprepSelector('password', 'Secret key holding the new Administrator password.')),
          timeZone: s.optional(
            s.int32({ default: 85, minimum: 0, description: 'Windows time zone index (85 is UTC).' }),
          ),
        },
        { description: 'The GuiUnattended key.' },
      ),
    ),
    identification: s.optional(
      s.object(
        {
          domainAdmin: optStr('Account that joins the guest to spec.network.domainName.'),
          domainAdminPassword: s.optional(
            sysprepSelector('domain_admin_password', 'Secret key holding the domain account’s password.'),
          ),
          domainOU: optStr('Organizational unit the computer account is created in.'),
          joinWorkgroup: optStr('Workgroup to join instead of a domain.'),
        },
        { description: 'The Identification key: the domain or workgroup the guest joins.' },
      ),
    ),
    licenseFilePrintData: s.optional(
      s.object(
        {
          autoMode: s.enum(['perSeat', 'perServer'] as const, { description: 'Server licensing mode.' }),
          autoUsers: s.optional(s.int32({ description: 'Client licenses, in perServer mode.' })),
        },
        { description: 'The LicenseFilePrintData key (Windows Server).' },
      ),
    ),
    userData: s.object(
      {
        fullName: s.string({ description: 'The user’s full name.' }),
        orgName: s.string({ description: 'The organization’s name.' }),
        productID: s.optional(sysprepSelector('product_id', 'Secret key holding the Windows product key.')),
      },
      { description: 'The UserData key: owner, organization and product key.' },
    ),
  },
  { description: 'A sysprep.xml answer file as an object. Mutually exclusive with rawSysprep.' },
);

export const SysprepSpec = s.object(
  {
    sysprep: s.optional(SysprepAnswers),
    rawSysprep: s.optional(
      s.object(SecretKeySelector.props, {
        description: 'Secret key holding sysprep XML (plain, base64, or gzip+base64). Mutually exclusive with sysprep.',
      }),
    ),
  },
  { description: 'Bootstrap a Windows guest with Sysprep; may be combined with vAppConfig.' },
);

export const VAppConfigSpec = s.object(
  {
    properties: s.optional(
      s.array(KeyValueOrSecretKeySelectorPair, {
        description: 'vApp/OVF properties to set. Mutually exclusive with rawProperties.',
        listType: 'map',
        listMapKeys: ['key'],
      }),
    ),
    rawProperties: optStr('Name of a Secret whose pairs become vApp properties. Mutually exclusive with properties.'),
  },
  { description: 'Pass data to the guest as vApp/OVF properties; not with Cloud-Init.' },
);

export const BootstrapSpec = s.object(
  {
    cloudInit: s.optional(CloudInitSpec),
    linuxPrep: s.optional(LinuxPrepSpec),
    sysprep: s.optional(SysprepSpec),
    vAppConfig: s.optional(VAppConfigSpec),
  },
  { description: 'How the guest is bootstrapped. When omitted, a provider may be chosen from the guest OS.' },
);
