// Latency and faults on demand, so the local vCenter can be as slow and unreliable as a real one.
//
// Delays: vcsim's own (-delay, -method-delay, -delay-jitter; a method delay names a SOAP method, e.g.
// PowerOnVM_Task, or a task by vcsim's task name, e.g. PowerOn), plus -deploy-delay for the vAPI OVF deploy of
// a content library item, which vcsim answers at once: with it, the VM is made at once (a real vCenter shows a
// deploying VM in its inventory early) and the answer comes after the delay.
//
// Faults (-fault RULE,RULE…, each TARGET:PROBABILITY:KIND, or TARGET:PROBABILITY:KIND:COUNT to fire at most
// COUNT times — a fault that lasts a while and then clears, as most real ones do):
//   - TARGET a SOAP method (PowerOnVM_Task): KIND is a vim25 fault type (InvalidState, TaskInProgress,
//     HostCommunication…) the call answers with, "drop" (the connection is closed without an answer) or "503";
//   - TARGET task.NAME (task.PowerOn, task.CloneVm, task.CreateVm, task.ReconfigVm): the task is accepted and
//     then ends in error with the fault KIND;
//   - TARGET rest.deploy (the OVF deploy) or rest.* (any vAPI request): KIND "503", "drop" or "500".
//
// -session-ttl DURATION: a SOAP or vAPI session older than this is refused as not authenticated, as an
// expired session is, so clients must log in again.
package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type faultRule struct {
	target      string
	probability float64
	kind        string
	left        int // times it may still fire; -1: no limit
}

type chaos struct {
	rules       []faultRule
	deployDelay time.Duration
	jitter      float64
	sessionTTL  time.Duration
	// The VirtualDisk devices of attached First Class Disks (disks.go).
	disks *diskDevices
	// The last guest customization handed to each VM (customizations.go).
	customizations *customizations

	mu         sync.Mutex
	rng        *rand.Rand
	restLogins map[string]time.Time
}

func parseFaultRules(spec string) ([]faultRule, error) {
	var rules []faultRule
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ":")
		if len(fields) != 3 && len(fields) != 4 {
			return nil, fmt.Errorf("-fault %q: want TARGET:PROBABILITY:KIND or TARGET:PROBABILITY:KIND:COUNT", part)
		}
		left := -1
		if len(fields) == 4 {
			n, err := strconv.Atoi(fields[3])
			if err != nil || n < 1 {
				return nil, fmt.Errorf("-fault %q: the count must be a whole number of at least 1", part)
			}
			left = n
		}
		p, err := strconv.ParseFloat(fields[1], 64)
		if err != nil || p < 0 || p > 1 {
			return nil, fmt.Errorf("-fault %q: the probability must be a number from 0 to 1", part)
		}
		kind := fields[2]
		if !httpKind(kind) {
			if _, ok := types.TypeFunc()(kind); !ok {
				return nil, fmt.Errorf("-fault %q: %q is neither drop, 503, 500 nor a vim25 fault type", part, kind)
			}
		}
		rules = append(rules, faultRule{target: fields[0], probability: p, kind: kind, left: left})
	}
	return rules, nil
}

// httpKind: a fault the HTTP layer serves (the others are vim25 faults, served by the simulator).
func httpKind(kind string) bool { return kind == "drop" || kind == "503" || kind == "500" }

// pick returns the kind of the first rule for a target that fires this time, or "": rules of HTTP kinds when
// http is true, else rules of vim25 fault kinds (each layer rolls only its own rules, so a count is spent only
// by a fault that is served).
func (c *chaos) pick(http bool, targets ...string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.rules {
		r := &c.rules[i]
		if r.left == 0 || httpKind(r.kind) != http {
			continue
		}
		for _, t := range targets {
			if r.target == t && c.rng.Float64() < r.probability {
				if r.left > 0 {
					r.left--
				}
				return r.kind
			}
		}
	}
	return ""
}

func (c *chaos) sleep(d time.Duration) {
	if c.jitter > 0 {
		c.mu.Lock()
		d += time.Duration(c.rng.NormFloat64() * c.jitter * float64(d))
		c.mu.Unlock()
	}
	if d > 0 {
		time.Sleep(d)
	}
}

// vimFault makes a fault value of a vim25 fault type by name.
func vimFault(name string) types.BaseMethodFault {
	t, ok := types.TypeFunc()(name)
	if !ok {
		return &types.SystemError{Reason: "unknown fault " + name}
	}
	if f, ok := reflect.New(t).Interface().(types.BaseMethodFault); ok {
		return f
	}
	return &types.SystemError{Reason: name}
}

// install hooks the faults into the simulator: SOAP method faults and expired sessions through the
// registry's method handler, task errors by replacing a new task's work as it is registered.
func (c *chaos) install(m *simulator.Registry) {
	m.Handler = func(ctx *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		if fault := duplicateName(ctx, method); fault != nil {
			return nil, fault
		}
		if c.sessionTTL > 0 && ctx.Session != nil && time.Since(ctx.Session.LoginTime) > c.sessionTTL {
			return nil, &types.NotAuthenticated{}
		}
		if kind := c.pick(false, method.Name); kind != "" {
			return nil, vimFault(kind)
		}
		c.customizations.note(method)
		return nil, nil
	}
	m.AddHandler(&taskFaults{c: c})
}

// taskFaults makes a task end in error: it sees each task as the registry stores it, before the task's work
// starts, and replaces that work with the fault.
type taskFaults struct{ c *chaos }

func (t *taskFaults) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "VmopTaskFaults", Value: "task-faults"}
}

func (t *taskFaults) PutObject(ctx *simulator.Context, obj mo.Reference) {
	task, ok := obj.(*simulator.Task)
	if !ok {
		return
	}
	if kind := t.c.pick(false, "task."+task.Info.Name); kind != "" {
		fault := vimFault(kind)
		task.Execute = func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, fault }
	}
	// (After a fault, so a failed attach or detach changes no device.)
	t.c.disks.wrap(ctx, task)
}

func (t *taskFaults) UpdateObject(*simulator.Context, mo.Reference, []types.PropertyChange) {}
func (t *taskFaults) RemoveObject(*simulator.Context, types.ManagedObjectReference)         {}

var soapMethod = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?Body[^>]*>\s*<(?:[A-Za-z0-9]+:)?([A-Za-z0-9_]+)`)

// wrap serves the HTTP-level part: the deploy delay, dropped connections and 5xx answers, and expired vAPI
// sessions.
func (c *chaos) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/vmop/customization" && r.Method == http.MethodGet {
			c.customizations.serve(w, r)
			return
		}
		targets := []string{}
		deploy := isDeploy(r)
		switch {
		case strings.HasPrefix(r.URL.Path, "/sdk") && r.Method == http.MethodPost:
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if m := soapMethod.FindSubmatch(body); m != nil {
				targets = append(targets, string(m[1]))
			}
		case strings.HasPrefix(r.URL.Path, "/rest/") || strings.HasPrefix(r.URL.Path, "/api/"):
			if c.restExpired(r) {
				http.Error(w, `{"error_type":"UNAUTHENTICATED","messages":[]}`, http.StatusUnauthorized)
				return
			}
			targets = append(targets, "rest.*")
			if deploy {
				targets = append(targets, "rest.deploy")
			}
		}
		switch c.pick(true, targets...) {
		case "drop":
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			http.Error(w, "connection dropped", http.StatusServiceUnavailable)
			return
		case "503":
			http.Error(w, "service unavailable (injected)", http.StatusServiceUnavailable)
			return
		case "500":
			http.Error(w, "internal error (injected)", http.StatusInternalServerError)
			return
		}
		if deploy && c.deployDelay > 0 {
			// As on vCenter, the deploying VM is in the inventory long before the deploy answers: it is made at
			// once, and the answer is held for the delay (a client that goes away meanwhile does not stop it).
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			c.sleep(c.deployDelay)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		if c.sessionTTL > 0 && isRESTLogin(r) {
			rec := &sessionRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if id := rec.sessionID(); id != "" {
				c.mu.Lock()
				c.restLogins[id] = time.Now()
				c.mu.Unlock()
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isDeploy: POST /rest/com/vmware/vcenter/ovf/library-item/id:ID?~action=deploy or /api/vcenter/ovf/library-item/ID?action=deploy.
func isDeploy(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.Contains(r.URL.Path, "/ovf/library-item/") {
		return false
	}
	return r.URL.Query().Get("~action") == "deploy" || r.URL.Query().Get("action") == "deploy"
}

func isRESTLogin(r *http.Request) bool {
	return r.Method == http.MethodPost &&
		(r.URL.Path == "/rest/com/vmware/cis/session" || r.URL.Path == "/api/session")
}

func (c *chaos) restExpired(r *http.Request) bool {
	if c.sessionTTL <= 0 {
		return false
	}
	id := r.Header.Get("vmware-api-session-id")
	if id == "" {
		if ck, err := r.Cookie("vmware-api-session-id"); err == nil {
			id = ck.Value
		}
	}
	if id == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	since, ok := c.restLogins[id]
	return ok && time.Since(since) > c.sessionTTL
}

// sessionRecorder keeps the body of a vAPI login answer to learn the new session's ID.
type sessionRecorder struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (s *sessionRecorder) Write(b []byte) (int, error) {
	s.buf.Write(b)
	return s.ResponseWriter.Write(b)
}

func (s *sessionRecorder) sessionID() string {
	text := strings.TrimSpace(s.buf.String())
	// /api/session answers "ID"; /rest/com/vmware/cis/session answers {"value":"ID"}.
	text = strings.TrimPrefix(text, `{"value":`)
	text = strings.TrimSuffix(text, "}")
	return strings.Trim(text, "\" \n")
}
