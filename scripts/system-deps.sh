#!/usr/bin/env bash
# Makes sure the system packages the tests need are present.
# As root with apt-get: installs what is missing. Otherwise: says exactly what to install.
set -euo pipefail

# "debian-package:probe" where probe is a command (cmd:NAME) or a shared library (lib:NAME)
needs=(
  "openssl:cmd:openssl"
  "poppler-utils:cmd:pdfsig"
  "libpango-1.0-0:lib:libpango-1.0.so.0"
  "libpangoft2-1.0-0:lib:libpangoft2-1.0.so.0"
  "fonts-dejavu-core:file:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
  "softhsm2:cmd:softhsm2-util"
  "chromium:cmd:chromium"
)

missing=()
for entry in "${needs[@]}"; do
  pkg=${entry%%:*}; rest=${entry#*:}; kind=${rest%%:*}; probe=${rest#*:}
  case $kind in
    cmd) command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg") ;;
    lib) ldconfig -p 2>/dev/null | grep -q "$probe" || missing+=("$pkg") ;;
    file) [ -e "$probe" ] || missing+=("$pkg") ;;
  esac
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing system packages; install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
