#!/usr/bin/env bash
# Builds the real peers the test suite runs against — kube-apiserver, etcd and helm —
# from pinned releases through the Go module proxy, and caches them by version.
#
#   hack/setup-test-env.sh          builds what is missing, prints the assets folder
#
# KUBEBUILDER_ASSETS, when set and holding kube-apiserver and etcd, is used as it is
# (the envtest convention), and nothing is built. The cache lives under
# ${VMKEEPER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmkeeper}; a first build takes
# several minutes on 2 cores, later runs none.
set -euo pipefail

KUBE_VERSION="${VMKEEPER_KUBE_VERSION:-v1.34.4}"
ETCD_VERSION="${VMKEEPER_ETCD_VERSION:-v3.6.5}"
HELM_VERSION="${VMKEEPER_HELM_VERSION:-v3.19.0}"

CACHE_DIR="${VMKEEPER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmkeeper}"
ASSETS="$CACHE_DIR/assets/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"

log() { printf 'setup-test-env: %s\n' "$*" >&2; }

need_go() {
  command -v go >/dev/null 2>&1 || { log "Go is required (https://go.dev/dl); none found on PATH"; exit 1; }
}

# k8s.io/kubernetes replaces its staging modules with local paths, so it cannot be built
# with `go install`. A throw-away module that requires it and points every staging module
# at its published v0.Y.Z release builds the same binary.
build_kube_apiserver() {
  local work minor gomod
  work="$(mktemp -d)"
  minor="${KUBE_VERSION#v1.}"           # 34.4
  local staging_version="v0.$minor"
  log "building kube-apiserver $KUBE_VERSION (staging modules $staging_version)"
  gomod="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module vmkeeper.dev/build/kube-apiserver"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#replace \1 => \1 '"$staging_version"'#p' "$gomod"
  } >"$work/go.mod"
  cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver/app"
GO
  (cd "$work" && { go mod tidy >/dev/null 2>&1 || go mod tidy; })
  local major="${KUBE_VERSION#v}"; major="${major%%.*}"
  local mnr="${minor%%.*}"
  local ld="-s -w"
  ld="$ld -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
  ld="$ld -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$mnr"
  ld="$ld -X k8s.io/component-base/version.gitTreeState=clean"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$ASSETS.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
  # kubectl ships on our machine images; build the matching one only where it is missing.
  if ! command -v kubectl >/dev/null 2>&1; then
    log "kubectl not on PATH; building kubectl $KUBE_VERSION"
    printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubectl/pkg/cmd"\n' >"$work/tools_kubectl.go" 2>/dev/null || true
    (cd "$work" && { go mod tidy >/dev/null 2>&1 || go mod tidy; } && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$ASSETS.tmp/kubectl" k8s.io/kubernetes/cmd/kubectl)
  fi
  rm -rf "$work"
}

# etcd's server module has no main package of its own that `go install` accepts from the
# proxy in a replace-free way, so a two-line wrapper calls etcdmain.Main.
build_etcd() {
  local work; work="$(mktemp -d)"
  log "building etcd $ETCD_VERSION"
  cat >"$work/go.mod" <<MOD
module vmkeeper.dev/build/etcd

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat >"$work/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work" && { go mod tidy >/dev/null 2>&1 || go mod tidy; })
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ASSETS.tmp/etcd" .)
  rm -rf "$work"
}

build_helm() {
  log "building helm $HELM_VERSION"
  GOBIN="$ASSETS.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

main() {
  if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then
    ASSETS="$KUBEBUILDER_ASSETS"
    if [[ ! -x "$ASSETS/helm" ]] && ! command -v helm >/dev/null 2>&1; then
      need_go; mkdir -p "$CACHE_DIR/helm-$HELM_VERSION"
      GOBIN="$CACHE_DIR/helm-$HELM_VERSION" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    fi
    echo "$ASSETS"; return
  fi
  if [[ -x "$ASSETS/kube-apiserver" && -x "$ASSETS/etcd" && -x "$ASSETS/helm" ]]; then
    echo "$ASSETS"; return
  fi
  need_go
  mkdir -p "$ASSETS.tmp"
  [[ -x "$ASSETS.tmp/etcd" ]] || build_etcd
  [[ -x "$ASSETS.tmp/helm" ]] || build_helm
  [[ -x "$ASSETS.tmp/kube-apiserver" ]] || build_kube_apiserver
  rm -rf "$ASSETS"; mv "$ASSETS.tmp" "$ASSETS"
  log "assets ready in $ASSETS"
  echo "$ASSETS"
}

main "$@"
