#!/usr/bin/env bash
# What the web portal's browser tests need (tests/browser/), installed when missing, as
# ensure-rabbitmq.sh installs the broker: Debian's chromium and chromedriver (no browser download:
# selenium is pointed at /usr/bin/chromium), the Noto fonts (Bangla in screenshots) and axe-core
# from the npm registry (the accessibility check) into .data/axe-core. Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION="${AXE_VERSION:-4.10.3}"
AXE_DIR=.data/axe-core
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -f /usr/share/fonts/truetype/noto/NotoSansBengali-Regular.ttf ] || missing+=(fonts-noto-core)
if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] && ! command -v npm >/dev/null 2>&1; then
    missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]} with apt-get (one-time)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
    echo "==> installing axe-core@$AXE_VERSION from the npm registry into $AXE_DIR (one-time)"
    mkdir -p "$AXE_DIR"
    npm install --silent --no-audit --no-fund --prefix "$AXE_DIR" "axe-core@$AXE_VERSION" >/dev/null
fi
