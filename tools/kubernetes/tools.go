//go:build tools

// Package tools pins the Kubernetes commands that vmop's local test ground builds.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
