#!/usr/bin/env bash
# A Vulkan driver that Dawn (the `webgpu` package) accepts on a CPU-only Debian machine, so that
# the WebGPU tests have an adapter: Mesa's lavapipe, mesa-vulkan-drivers ≥ 24. Debian 12
# (bookworm) ships 22.3, which Dawn rejects ("shaderUniform*ArrayDynamicIndexing required"), so
# there it comes from bookworm-backports (25.x), added on the mirror the machine already uses.
# Needs root (CI runs as root). Idempotent: does nothing when a recent enough driver is installed.
set -euo pipefail
have=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if [ -n "$have" ] && dpkg --compare-versions "$have" ge 24; then
  echo "install-lavapipe: mesa-vulkan-drivers $have is installed"
  exit 0
fi
. /etc/os-release
export DEBIAN_FRONTEND=noninteractive
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # the Debian mirror of the machine's own bookworm entry
    uri=$(awk '/^URIs:/ { u = $2 } /^Suites:.*bookworm( |$)/ { print u; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [ -z "$uri" ] && uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
    if [ -z "$uri" ]; then
      echo "install-lavapipe: no bookworm entry in the apt sources to take the mirror from; add bookworm-backports by hand" >&2
      exit 1
    fi
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" >/etc/apt/sources.list.d/bookworm-backports.sources
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
else
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers
fi
echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
