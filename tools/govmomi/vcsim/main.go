// Command vcsim serves govmomi's vCenter simulator for vmop's local test ground.
//
// govmomi's own vcsim main lives in a module the Go proxy does not serve, so this is vmop's launcher around
// the simulator packages: it builds a vCenter inventory from flags, registers the vAPI, PBM and storage
// endpoints, and writes a JSON ready file once it listens, so scripts know the URL without parsing logs.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"

	// Endpoints beside /sdk that the operator uses: vAPI REST (content library, OVF deploy, tags), PBM
	// storage policies and First Class Disks.
	_ "github.com/vmware/govmomi/pbm/simulator"
	_ "github.com/vmware/govmomi/vapi/cluster/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
	_ "github.com/vmware/govmomi/vapi/vm/simulator"
	_ "github.com/vmware/govmomi/vslm/simulator"
)

type readyInfo struct {
	URL     string `json:"url"`
	PID     int    `json:"pid"`
	Version string `json:"version"`
}

func main() {
	model := simulator.VPX()
	flag.IntVar(&model.Datacenter, "dc", model.Datacenter, "datacenters")
	flag.IntVar(&model.Cluster, "cluster", model.Cluster, "clusters per datacenter")
	flag.IntVar(&model.ClusterHost, "host", model.ClusterHost, "hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", model.Host, "standalone hosts per datacenter")
	flag.IntVar(&model.Datastore, "ds", model.Datastore, "local datastores")
	flag.IntVar(&model.Machine, "vm", model.Machine, "virtual machines per resource pool")
	flag.IntVar(&model.Pool, "pool", model.Pool, "resource pools per compute resource")
	flag.IntVar(&model.Portgroup, "pg", model.Portgroup, "distributed port groups")
	flag.IntVar(&model.Folder, "folder", model.Folder, "folders")
	flag.BoolVar(&model.Autostart, "autostart", model.Autostart, "power on the VMs the model creates")
	listen := flag.String("l", "127.0.0.1:8989", "listen address")
	user := flag.String("username", "", "the only user name accepted (any when empty)")
	pass := flag.String("password", "", "the only password accepted (any when empty)")
	certFile := flag.String("tlscert", "", "TLS certificate file (a self-signed one when empty)")
	keyFile := flag.String("tlskey", "", "TLS key file")
	readyFile := flag.String("ready-file", "", "write {url,pid,version} as JSON here once serving")
	apiVersion := flag.String("api-version", "8.0.3.0", "vSphere API version the simulator reports")
	exitWithStdin := flag.Bool("exit-with-stdin", false, "exit when standard input closes (the parent process is gone)")
	flag.IntVar(&model.DelayConfig.Delay, "delay", 0, "milliseconds every SOAP call waits before it is served")
	methodDelay := flag.String("method-delay", "", "METHOD:MS,… extra milliseconds for a SOAP method (PowerOnVM_Task) "+
		"or, by vcsim's task name, for the work of a task (PowerOn, CloneVm, CreateVm, ReconfigVm, Destroy, AttachDisk)")
	flag.Float64Var(&model.DelayConfig.DelayJitter, "delay-jitter", 0,
		"the delays' coefficient of variation (0.3: most land within ±30 %)")
	deployDelay := flag.Duration("deploy-delay", 0, "how long the vAPI OVF deploy of a library item takes (e.g. 45s)")
	faults := flag.String("fault", "", "TARGET:PROBABILITY:KIND[:COUNT],… injected faults (see faults.go): a SOAP "+
		"method, task.NAME or rest.deploy / rest.*; KIND a vim25 fault type, drop, 503 or 500; COUNT: at most so many")
	sessionTTL := flag.Duration("session-ttl", 0, "SOAP and vAPI sessions older than this are refused as expired")
	uuidSeed := flag.Int64("uuid-seed", 0, "when not 0, UUIDs (content library and item IDs among them) come from a "+
		"random source seeded with this value, so the same sequence of calls yields the same IDs on every start")
	flag.Parse()

	if *methodDelay != "" {
		delays := map[string]int{}
		for _, part := range strings.Split(*methodDelay, ",") {
			name, ms, ok := strings.Cut(strings.TrimSpace(part), ":")
			n, err := strconv.Atoi(ms)
			if !ok || err != nil || n < 0 {
				fmt.Fprintf(os.Stderr, "vcsim: -method-delay %q: want METHOD:MILLISECONDS\n", part)
				os.Exit(2)
			}
			delays[name] = n
		}
		model.DelayConfig.MethodDelay = delays
		// The same names, for the work of tasks (it runs after the call has answered with the task).
		simulator.TaskDelay.MethodDelay = delays
		simulator.TaskDelay.DelayJitter = model.DelayConfig.DelayJitter
	}
	rules, err := parseFaultRules(*faults)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(2)
	}
	c := &chaos{
		rules:          rules,
		deployDelay:    *deployDelay,
		jitter:         model.DelayConfig.DelayJitter,
		sessionTTL:     *sessionTTL,
		rng:            rand.New(rand.NewSource(time.Now().UnixNano())), //nolint:gosec // fault dice, not secrets
		restLogins:     map[string]time.Time{},
		disks:          newDiskDevices(),
		customizations: newCustomizations(),
	}

	model.ServiceContent.About.ApiVersion = *apiVersion
	model.ServiceContent.About.Version = *apiVersion
	if *uuidSeed != 0 {
		uuid.SetRand(rand.New(rand.NewSource(*uuidSeed))) //nolint:gosec // reproducible IDs are the point here
	}

	if *exitWithStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			p, _ := os.FindProcess(os.Getpid())
			_ = p.Signal(syscall.SIGTERM)
		}()
	}
	if err := run(model, c, *listen, *user, *pass, *certFile, *keyFile, *readyFile); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
}

func run(model *simulator.Model, c *chaos, listen, user, pass, certFile, keyFile, readyFile string) error {
	if err := model.Create(); err != nil {
		return fmt.Errorf("create inventory: %w", err)
	}
	defer model.Remove()

	u := &url.URL{Scheme: "https", Host: listen}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	model.Service.Listen = u
	model.Service.RegisterEndpoints = true
	model.Service.TLS = new(tls.Config)
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		model.Service.TLS.Certificates = []tls.Certificate{cert}
	}

	server := model.Service.NewServer()
	defer server.Close()
	// Before the ready file: no client knows the address yet, so no request races the handler's swap.
	c.install(model.Service.Context.Map)
	server.Config.Handler = c.wrap(server.Config.Handler)

	if readyFile != "" {
		info := readyInfo{URL: server.URL.String(), PID: os.Getpid(), Version: model.ServiceContent.About.Version}
		data, _ := json.Marshal(info)
		tmp := readyFile + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, readyFile); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "vcsim: serving %s\n", server.URL.Redacted())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}
