#!/bin/bash
# Installs what SCMC needs to build and test on Debian 12 (run as root, or with sudo present).
set -euo pipefail
pkgs=(build-essential meson ninja-build pkg-config libpng-dev libwebp-dev check python3 libtorch-dev libopenblas-dev
      python3-numpy python3-pil python3-torch python3-matplotlib time libjpeg-turbo-progs webp libopenjp2-tools libjxl-tools libavif-bin)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
