// vCenter refuses a second VM of the same name in one folder (DuplicateName); vcsim lets it be made. The
// launcher refuses it as vCenter does, for the calls that make a VM in a folder — ImportVApp (the OVF deploy of
// a content library item goes through it), CreateVM_Task, CloneVM_Task — so a client that deploys a VM twice
// (say after a crash) meets the same answer as on vCenter.
package main

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// duplicateName returns DuplicateName when the call would make a VM whose name its folder already holds.
func duplicateName(ctx *simulator.Context, method *simulator.Method) types.BaseMethodFault {
	var folder *types.ManagedObjectReference
	var name string
	switch req := method.Body.(type) {
	case *types.ImportVApp:
		if spec, ok := req.Spec.(*types.VirtualMachineImportSpec); ok {
			folder, name = req.Folder, spec.ConfigSpec.Name
		}
	case *types.CreateVM_Task:
		folder, name = &req.This, req.Config.Name
	case *types.CloneVM_Task:
		folder, name = &req.Folder, req.Name
	default:
		return nil
	}
	if folder == nil || name == "" {
		return nil
	}
	f, ok := ctx.Map.Get(*folder).(*simulator.Folder)
	if !ok {
		return nil
	}
	if obj := ctx.Map.FindByName(name, f.ChildEntity); obj != nil && obj.Reference().Type == "VirtualMachine" {
		return &types.DuplicateName{Name: name, Object: obj.Reference()}
	}
	return nil
}
