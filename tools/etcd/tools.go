//go:build tools

// Package tools pins the etcd server that vmop's local test ground builds.
package tools

import _ "go.etcd.io/etcd/server/v3"
