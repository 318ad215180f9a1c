// A stream-optimized VMDK with no data: the boot disk of the local images, so that they carry a disk as real
// OVAs do without shipping one. Layout (VMware's Virtual Disk Format 5.0, stream-optimized variant): the sparse
// header, the embedded descriptor, then a grain directory whose every entry is 0 (no grain table: the whole
// disk reads as zeros), the footer (the header again, now pointing at that directory) and the end-of-stream
// marker. The result is small and the same every time, so the OVF can state its size.

const SECTOR = 512;
const GRAIN_SECTORS = 128; // 64 KiB grains
const GTES_PER_GT = 512;
const MAGIC = 0x564d444b; // "KDMV"
// Valid newline detection, compressed grains, markers.
const FLAGS = (1 << 0) | (1 << 16) | (1 << 17);
const GD_AT_END = 0xffffffffffffffffn;
const MARKER = { grainDirectory: 2, footer: 3 } as const;

function header(capacitySectors: bigint, gdOffset: bigint, overHead: bigint): Buffer {
  const b = Buffer.alloc(SECTOR);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(3, 4); // version
  b.writeUInt32LE(FLAGS, 8);
  b.writeBigUInt64LE(capacitySectors, 12);
  b.writeBigUInt64LE(BigInt(GRAIN_SECTORS), 20);
  b.writeBigUInt64LE(1n, 28); // descriptor offset (sectors)
  b.writeBigUInt64LE(1n, 36); // descriptor size (sectors)
  b.writeUInt32LE(GTES_PER_GT, 44);
  b.writeBigUInt64LE(0n, 48); // redundant grain directory: none
  b.writeBigUInt64LE(gdOffset, 56);
  b.writeBigUInt64LE(overHead, 64);
  b.writeUInt8(0, 72); // clean shutdown
  b.write('\n \r\n', 73, 'latin1'); // the newline-detection characters
  b.writeUInt16LE(1, 77); // deflate
  return b;
}

function marker(sectors: bigint, type: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  b.writeBigUInt64LE(sectors, 0);
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(type, 12);
  return b;
}

function descriptor(fileName: string, capacitySectors: bigint): Buffer {
  // A geometry vSphere accepts for any size: 255 heads, 63 sectors per track.
  const cylinders = capacitySectors / (255n * 63n);
  const text = [
    '# Disk DescriptorFile',
    'version=1',
    'CID=7a6b5c4d',
    'parentCID=ffffffff',
    'createType="streamOptimized"',
    '',
    '# Extent description',
    `RW ${capacitySectors} SPARSE "${fileName}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    'ddb.adapterType = "lsilogic"',
    `ddb.geometry.cylinders = "${cylinders}"`,
    'ddb.geometry.heads = "255"',
    'ddb.geometry.sectors = "63"',
    'ddb.virtualHWVersion = "14"',
    '',
  ].join('\n');
  const b = Buffer.alloc(SECTOR);
  if (Buffer.byteLength(text) > SECTOR) throw new Error(`VMDK descriptor for ${fileName} exceeds one sector`);
  b.write(text, 0, 'utf8');
  return b;
}

/** An empty stream-optimized VMDK of `capacityBytes` (a multiple of 64 KiB), naming itself `fileName`. */
export function emptyStreamOptimizedVMDK(fileName: string, capacityBytes: number): Buffer {
  const grainBytes = GRAIN_SECTORS * SECTOR;
  if (capacityBytes <= 0 || capacityBytes % grainBytes !== 0) {
    throw new Error(`VMDK capacity ${capacityBytes} is not a positive multiple of ${grainBytes}`);
  }
  const capacitySectors = BigInt(capacityBytes / SECTOR);
  const grainTables = Math.ceil(capacityBytes / grainBytes / GTES_PER_GT);
  const gdSectors = BigInt(Math.ceil((grainTables * 4) / SECTOR));
  // header, descriptor, directory marker → the directory starts at sector 3.
  const gdOffset = 3n;
  const overHead = gdOffset + gdSectors;
  return Buffer.concat([
    header(capacitySectors, GD_AT_END, overHead),
    descriptor(fileName, capacitySectors),
    marker(gdSectors, MARKER.grainDirectory),
    Buffer.alloc(Number(gdSectors) * SECTOR), // every grain table absent
    marker(1n, MARKER.footer),
    header(capacitySectors, gdOffset, overHead),
    Buffer.alloc(SECTOR), // end of stream
  ]);
}
