// A minimal ISO 9660 image — an empty root directory under a volume label — for the local environment's ISO
// library item (what spec.cdrom mounts). Layout: 16 empty system sectors, the primary volume descriptor, the
// descriptor-set terminator, the little- and big-endian path tables, and the root directory ("." and "..").
// The same bytes every time (a fixed date), 21 sectors of 2 KiB.

const SECTOR = 2048;
const ROOT_SECTOR = 20;
const TOTAL_SECTORS = 21;
/** 2026-01-01 00:00:00 UTC, as a directory record's 7-byte date. */
const RECORD_DATE = [126, 1, 1, 0, 0, 0, 0];
/** The same moment as a volume descriptor's 17-byte date. */
const VOLUME_DATE = Buffer.concat([Buffer.from('2026010100000000', 'ascii'), Buffer.from([0])]);

function both32(b: Buffer, offset: number, n: number): void {
  b.writeUInt32LE(n, offset);
  b.writeUInt32BE(n, offset + 4);
}

function both16(b: Buffer, offset: number, n: number): void {
  b.writeUInt16LE(n, offset);
  b.writeUInt16BE(n, offset + 2);
}

function padded(b: Buffer, offset: number, length: number, text: string): void {
  b.write(text.padEnd(length, ' ').slice(0, length), offset, 'ascii');
}

/** A directory record of the root directory (`id` 0 for ".", 1 for ".."). */
function rootRecord(id: number): Buffer {
  const r = Buffer.alloc(34);
  r[0] = 34; // record length
  both32(r, 2, ROOT_SECTOR);
  both32(r, 10, SECTOR);
  Buffer.from(RECORD_DATE).copy(r, 18);
  r[25] = 0x02; // a directory
  both16(r, 28, 1); // volume sequence number
  r[32] = 1; // identifier length
  r[33] = id;
  return r;
}

function pathTable(bigEndian: boolean): Buffer {
  const t = Buffer.alloc(SECTOR);
  t[0] = 1; // identifier length
  if (bigEndian) {
    t.writeUInt32BE(ROOT_SECTOR, 2);
    t.writeUInt16BE(1, 6);
  } else {
    t.writeUInt32LE(ROOT_SECTOR, 2);
    t.writeUInt16LE(1, 6);
  }
  return t; // identifier 0x00 and the pad byte are zeros already
}

/** An empty ISO 9660 image labelled `label` (upper case letters, digits and _, at most 32). */
export function emptyISO(label: string): Buffer {
  if (!/^[A-Z0-9_]{1,32}$/.test(label)) throw new Error(`ISO volume label ${JSON.stringify(label)} is not valid`);
  const pvd = Buffer.alloc(SECTOR);
  pvd[0] = 1;
  pvd.write('CD001', 1, 'ascii');
  pvd[6] = 1;
  padded(pvd, 8, 32, 'LINUX');
  padded(pvd, 40, 32, label);
  both32(pvd, 80, TOTAL_SECTORS);
  both16(pvd, 120, 1); // volume set size
  both16(pvd, 124, 1); // volume sequence number
  both16(pvd, 128, SECTOR);
  both32(pvd, 132, 10); // path table size
  pvd.writeUInt32LE(18, 140); // little-endian path table
  pvd.writeUInt32BE(19, 148); // big-endian path table
  rootRecord(0).copy(pvd, 156);
  for (const [offset, length] of [
    [190, 128],
    [318, 128],
    [446, 128],
    [574, 128],
    [702, 37],
    [739, 37],
    [776, 37],
  ] as const) {
    padded(pvd, offset, length, '');
  }
  for (const offset of [813, 830]) VOLUME_DATE.copy(pvd, offset);
  for (const offset of [847, 864])
    Buffer.concat([Buffer.from('0'.repeat(16), 'ascii'), Buffer.from([0])]).copy(pvd, offset);
  pvd[881] = 1; // file structure version
  const terminator = Buffer.alloc(SECTOR);
  terminator[0] = 255;
  terminator.write('CD001', 1, 'ascii');
  terminator[6] = 1;
  const root = Buffer.alloc(SECTOR);
  rootRecord(0).copy(root, 0);
  rootRecord(1).copy(root, 34);
  return Buffer.concat([Buffer.alloc(16 * SECTOR), pvd, terminator, pathTable(false), pathTable(true), root]);
}
