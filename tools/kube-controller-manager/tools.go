//go:build tools

// Package tools pins kube-controller-manager, which the local test ground runs for the controllers that
// bind PersistentVolumeClaims, release claims no longer in use, and collect garbage.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
