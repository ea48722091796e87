# Sourced by the entry points in scripts/: set up a fresh machine, then leave them to run.
# - .venv is created when missing;
# - the locked dependencies (requirements-dev.txt) and the package are (re)installed when either changed;
# - the Debian packages the product and its tests need are installed when missing and apt-get is usable
#   (root), otherwise we say what to install and carry on (the rehearsal still works as text; the console's
#   browser tests are skipped without chromium).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# chromium: the console's browser tests (Playwright drives it; Playwright's own browser cannot be fetched here).
DEBIAN_PACKAGES=(libespeak-ng1 alsa-utils chromium)
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"

say() { printf '%s\n' "$*" >&2; }

ensure_debian_packages() {
  local missing=() pkg
  command -v dpkg-query >/dev/null 2>&1 || { say "note: not a Debian system; install espeak-ng, an audio player and chromium yourself"; return 0; }
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages: ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null \
      || say "warning: could not install ${missing[*]}; speech (or the browser tests) will be unavailable"
  else
    say "note: speech and the browser tests need these Debian packages: sudo apt-get install ${missing[*]}"
  fi
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
      || { say "error: Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))"; exit 1; }
    say "creating .venv"
    "$PYTHON" -m venv "$VENV"
  fi
  # Reinstall when the lock or the package's own metadata changed. Dependencies come from the
  # hashed lockfile (reproducible, every file checked); then the companion itself, without deps.
  local stamp="$VENV/.lock.sha256" want
  want="$(cat pyproject.toml requirements-dev.txt | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing the companion and its locked dependencies into .venv"
    "$VENV/bin/python" -m pip install --quiet --require-hashes -r requirements-dev.txt \
      2> >(grep -v '^WARNING: Location' >&2) || { say "error: installing requirements-dev.txt failed"; exit 1; }
    "$VENV/bin/python" -m pip install --quiet --no-deps -e . \
      2> >(grep -v '^WARNING: Location' >&2) || { say "error: installing the companion failed"; exit 1; }
    "$VENV/bin/python" -c 'import ivr.cli.main' || { say "error: the install failed"; exit 1; }
    echo "$want" > "$stamp"
  fi
}

ensure_debian_packages
ensure_venv
export PATH="$VENV/bin:$PATH"
