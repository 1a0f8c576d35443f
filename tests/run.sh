#!/usr/bin/env bash
# The test command: installs what is missing, then runs every check and test
# (format, lints, UI type check, unit, integration, end-to-end in the real window).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$VEDETTE_ROOT"
start=$(date +%s)

say "format"
cargo fmt --all --check

build_ui
say "UI type check (svelte-check)"
(cd ui && npm run --silent check)

say "engine crates stay free of Tauri, GTK and WebKit"
for manifest in src-tauri/crates/*/Cargo.toml; do
  crate="$(basename "$(dirname "$manifest")")"
  for gui in tauri gtk webkit2gtk; do
    if cargo tree -q -p "$crate" -e normal,build -i "$gui" >/dev/null 2>&1; then
      cargo tree -p "$crate" -e normal,build -i "$gui" >&2 || true
      die "$crate depends on $gui: engine crates must build without a GUI stack"
    fi
  done
done

say "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "building the CLI and the desktop app"
cargo build --quiet -p vedette-cli -p vedette-desktop

say "tests (unit, integration, end-to-end in the real window)"
mkdir -p tests/artifacts/screenshots
cargo nextest run --workspace --no-fail-fast --failure-output final

say "frontend bindings match the Rust types"
if git -C "$VEDETTE_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  if ! git diff --exit-code --stat -- ui/src/bindings || [ -n "$(git ls-files --others --exclude-standard ui/src/bindings)" ]; then
    die "ui/src/bindings changed when the tests regenerated them: commit the regenerated files"
  fi
fi

say "all checks passed in $(( $(date +%s) - start )) s; screenshots in tests/artifacts/screenshots/"
