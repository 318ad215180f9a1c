// vCenter's AttachDisk_Task adds a VirtualDisk device backed by the First Class Disk (its vDiskId the disk's
// ID) and DetachDisk_Task removes it; vcsim only records the VM as the disk's consumer, or no longer (its code
// leaves a TODO for the device). The launcher completes both tasks: after vcsim's own work it adds a device for
// each disk that names the VM as its consumer and removes those of disks that no longer do — so a client sees
// the disk among the VM's devices (govc device.ls), with a backing UUID, as on vCenter.
package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// diskDevices completes vcsim's attach and detach tasks with the VM's devices.
type diskDevices struct{}

func newDiskDevices() *diskDevices { return &diskDevices{} }

// wrap makes an AttachDisk or DetachDisk task, once vcsim's own work succeeded (the VM recorded as the disk's
// consumer, or no longer), bring the VM's disk devices in line: a device for each First Class Disk that names
// the VM as its consumer, none for one that does not. (vcsim names its tasks with a capital.)
func (d *diskDevices) wrap(ctx *simulator.Context, task *simulator.Task) {
	name := task.Info.Name
	if (name != "AttachDisk" && name != "DetachDisk") || task.Info.Entity == nil {
		return
	}
	work := task.Execute
	task.Execute = func(t *simulator.Task) (types.AnyType, types.BaseMethodFault) {
		res, fault := work(t)
		if fault != nil {
			return res, fault
		}
		// The task holds the VM's lock while it runs.
		if vm, ok := ctx.Map.Get(*t.Info.Entity).(*simulator.VirtualMachine); ok {
			return res, syncDiskDevices(ctx, vm)
		}
		return res, nil
	}
}

// consumedDisk is a First Class Disk that names a VM as its consumer.
type consumedDisk struct {
	id        string
	datastore types.ManagedObjectReference
	path      string
	capacity  int64
}

// consumedBy lists the First Class Disks whose consumer is the VM (by its BIOS UUID, as vcsim records it).
func consumedBy(ctx *simulator.Context, vm *simulator.VirtualMachine) map[string]consumedDisk {
	out := map[string]consumedDisk{}
	for ds, set := range ctx.Map.VStorageObjectManager().Catalog() {
		for id, obj := range set {
			mine := false
			for _, c := range obj.Config.ConsumerId {
				mine = mine || c.Id == vm.Config.Uuid
			}
			b, ok := obj.Config.Backing.(*types.BaseConfigInfoDiskFileBackingInfo)
			if mine && ok {
				out[id.Id] = consumedDisk{id: id.Id, datastore: ds, path: b.FilePath, capacity: obj.Config.CapacityInMB * 1024 * 1024}
			}
		}
	}
	return out
}

func syncDiskDevices(ctx *simulator.Context, vm *simulator.VirtualMachine) types.BaseMethodFault {
	wanted := consumedBy(ctx, vm)
	devices := object.VirtualDeviceList(vm.Config.Hardware.Device)
	var kept object.VirtualDeviceList
	removed := map[int32]bool{}
	for _, dev := range devices {
		if disk, ok := dev.(*types.VirtualDisk); ok && disk.VDiskId != nil {
			if _, still := wanted[disk.VDiskId.Id]; !still {
				removed[disk.Key] = true
				continue
			}
			delete(wanted, disk.VDiskId.Id) // has its device
		}
		kept = append(kept, dev)
	}
	for _, dev := range kept {
		if c, ok := dev.(types.BaseVirtualController); ok {
			vc := c.GetVirtualController()
			var keys []int32
			for _, k := range vc.Device {
				if !removed[k] {
					keys = append(keys, k)
				}
			}
			vc.Device = keys
		}
	}
	for _, disk := range wanted {
		device, fault := diskDevice(kept, disk)
		if fault != nil {
			return fault
		}
		kept = append(kept, device)
	}
	if len(removed) > 0 || len(kept) != len(devices) {
		ctx.Map.Update(ctx, vm, []types.PropertyChange{{Name: "config.hardware.device", Val: []types.BaseVirtualDevice(kept)}})
	}
	return nil
}

// diskDevice is the VirtualDisk device of a First Class Disk, on a free slot of one of the VM's SCSI controllers.
func diskDevice(devices object.VirtualDeviceList, disk consumedDisk) (*types.VirtualDisk, types.BaseMethodFault) {
	controller := devices.PickController((*types.VirtualSCSIController)(nil))
	if controller == nil {
		// vCenter needs a free SCSI slot for the disk.
		return nil, &types.InvalidController{}
	}
	key := int32(2000)
	for _, dev := range devices {
		if k := dev.GetVirtualDevice().Key; k >= key {
			key = k + 1
		}
	}
	ds := disk.datastore
	device := &types.VirtualDisk{
		VirtualDevice: types.VirtualDevice{
			Key: key,
			DeviceInfo: &types.Description{
				Label:   fmt.Sprintf("Hard disk %d", len(devices.SelectByType((*types.VirtualDisk)(nil)))+1),
				Summary: kilobytes(disk.capacity / 1024),
			},
			Backing: &types.VirtualDiskFlatVer2BackingInfo{
				VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: disk.path, Datastore: &ds},
				DiskMode:                     string(types.VirtualDiskModePersistent),
				ThinProvisioned:              types.NewBool(true),
				Uuid:                         uuid.NewSHA1(uuid.NameSpaceOID, []byte(disk.id)).String(),
			},
		},
		CapacityInKB:    disk.capacity / 1024,
		CapacityInBytes: disk.capacity,
		VDiskId:         &types.ID{Id: disk.id},
	}
	devices.AssignController(device, controller)
	return device, nil
}

// kilobytes writes a size as vCenter summarizes disks: "1,048,576 KB".
func kilobytes(kb int64) string {
	digits := fmt.Sprint(kb)
	var out []byte
	for i := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	return string(out) + " KB"
}
