#!/usr/bin/env bash
# Installs the Debian packages gmps-vision builds against, only those that are missing.
# Idempotent: a second run installs nothing. Uses sudo when not running as root.
set -euo pipefail

packages=(pkg-config libopenblas-dev libmujoco-dev libpng-dev libjpeg-dev libgif-dev libopenmpi-dev openmpi-bin)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-deps: missing Debian packages (${missing[*]}) and not root; run as root or install sudo." >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
