// A window for tests onto the guest customization a client handed to vSphere: vcsim applies a few fields of
// CustomizeVM_Task's spec at the next power-on (host name, addresses, DNS) and then drops it, so what the guest
// would have been given — masks, gateways, DHCP, per-adapter DNS, the identity — is otherwise lost. The
// launcher keeps the last spec of each VM and serves it as JSON at GET /vmop/customization?vm=<managed object
// ID>. Ground only: vCenter has no such endpoint, and the operator never reads it.
package main

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type customizations struct {
	mu   sync.Mutex
	last map[string]types.CustomizationSpec
}

func newCustomizations() *customizations {
	return &customizations{last: map[string]types.CustomizationSpec{}}
}

// note keeps the spec of a CustomizeVM_Task call.
func (c *customizations) note(method *simulator.Method) {
	req, ok := method.Body.(*types.CustomizeVM_Task)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last[req.This.Value] = req.Spec
}

// serve answers GET /vmop/customization?vm=vm-42 with the VM's last customization spec (404 when none).
func (c *customizations) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	spec, ok := c.last[r.URL.Query().Get("vm")]
	c.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(spec)
}
