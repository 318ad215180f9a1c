// The version the benchmarks write and watch VMs in: v1alpha6, the storage version (what VM Operator's docs write
// today); VMOP_BENCH_API_VERSION=v1alpha3 measures a client of the old version, every object through the
// conversion webhook. (Its own module: the memory floor's process imports nothing else of the benchmarks.)
export const API = `vmoperator.vmware.com/${process.env.VMOP_BENCH_API_VERSION ?? 'v1alpha6'}`;
