// Command govc is govmomi's vSphere CLI, linked from the govmomi module at the version pinned in go.mod.
// Upstream moved its main package to a module the Go proxy does not serve, so vmop links it here.
package main

import (
	"os"

	"github.com/vmware/govmomi/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:]))
}
