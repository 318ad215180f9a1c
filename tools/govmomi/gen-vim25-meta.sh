#!/usr/bin/env bash
# Regenerates src/vsphere/vim25/metadata.json from the pinned govmomi's vim25/types sources.
set -euo pipefail
cd "$(dirname "$0")"
read -r version d < <(go list -m -f '{{.Version}} {{.Dir}}' github.com/vmware/govmomi)
mkdir -p ../../src/vsphere/vim25
go run ./vim25meta "$d" "$version" > ../../src/vsphere/vim25/metadata.json
