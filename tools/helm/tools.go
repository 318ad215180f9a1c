//go:build tools

// Package tools pins the helm command that vmop's chart test renders with.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
