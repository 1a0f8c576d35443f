#!/usr/bin/env bash
# The release command: installs what it needs (as the app and test commands
# do), then builds Vedette's .deb with the Tauri bundler: the desktop app, the
# `vedette` CLI in /usr/bin, a systemd user unit for `vedette serve`, bash, zsh
# and fish completions, a man page, the desktop entry, AppStream metainfo and
# icons at every size. Its last lines are the absolute paths of the packages.
#
#   bash src-tauri/release.sh [--debug] [--version X.Y.Z] [--out DIR]
#
# --debug builds with the debug profile (what the tests install: it reuses
# their build); --version sets the package's version (the tests build a
# second, higher one to upgrade to); --out copies the packages there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tests/setup.sh"
cd "$VEDETTE_ROOT"

profile=release
version=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --version) version="${2:?--version needs a version, e.g. 0.2.0}"; shift ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    *) die "release.sh: unknown argument '$1' (use --debug, --version X.Y.Z, --out DIR)" ;;
  esac
  shift
done
[ -n "$version" ] || version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"

# tauri-cli from npm, pinned to the tauri crate's version.
TAURI_CLI_VERSION=2.12.5
tauri_dir="$VEDETTE_CACHE/tauri-cli-$TAURI_CLI_VERSION"
if [ ! -x "$tauri_dir/node_modules/.bin/tauri" ]; then
  say "installing tauri-cli $TAURI_CLI_VERSION (npm)"
  mkdir -p "$tauri_dir"
  npm install --silent --no-audit --no-fund --prefix "$tauri_dir" "@tauri-apps/cli@$TAURI_CLI_VERSION" >/dev/null
fi
tauri="$tauri_dir/node_modules/.bin/tauri"

build_ui
say "building the vedette CLI ($profile)"
if [ "$profile" = release ]; then
  cargo build --quiet --release -p vedette-cli
else
  cargo build --quiet -p vedette-cli
fi
cli="$CARGO_TARGET_DIR/$profile/vedette"

stage="$CARGO_TARGET_DIR/package/$profile"
rm -rf "$stage"
mkdir -p "$stage/icons" "$stage/completions"
say "completions, man page, icons, metainfo"
"$cli" completion bash >"$stage/completions/vedette"
"$cli" completion zsh >"$stage/completions/_vedette"
"$cli" completion fish >"$stage/completions/vedette.fish"
"$cli" manpage | gzip -9n >"$stage/vedette.1.gz"
"$tauri" icon icons/vedette.svg --output "$stage/icons" --png 16,24,32,48,64,128,256,512 >/dev/null
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u +%Y-%m-%d)/" \
  src-tauri/packaging/dev.vedette.desktop.metainfo.xml >"$stage/dev.vedette.desktop.metainfo.xml"

icons=""
for size in 16 24 32 48 64 128 256 512; do
  icons="$icons\"$stage/icons/${size}x${size}.png\","
done
cat >"$stage/tauri.release.json" <<JSON
{
  "version": "$version",
  "bundle": {
    "icon": [${icons%,}],
    "longDescription": "Vedette scans container registries, images and hosts over SSH for vulnerable packages, on schedules, with fresh advisory feeds at every run. It keeps the history on this machine, charts trends and raises alerts from the system tray; a policy gate, reports and an automation API serve CI pipelines.",
    "copyright": "Vedette developers",
    "license": "Apache-2.0",
    "linux": {
      "deb": {
        "section": "admin",
        "desktopTemplate": "$VEDETTE_ROOT/src-tauri/packaging/vedette.desktop.hbs",
        "depends": ["libayatana-appindicator3-1", "libdbus-1-3"],
        "recommends": ["gnome-keyring"],
        "files": {
          "/usr/bin/vedette": "$cli",
          "/usr/lib/systemd/user/vedette.service": "$VEDETTE_ROOT/src-tauri/packaging/vedette.service",
          "/usr/share/bash-completion/completions/vedette": "$stage/completions/vedette",
          "/usr/share/zsh/vendor-completions/_vedette": "$stage/completions/_vedette",
          "/usr/share/fish/vendor_completions.d/vedette.fish": "$stage/completions/vedette.fish",
          "/usr/share/man/man1/vedette.1.gz": "$stage/vedette.1.gz",
          "/usr/share/metainfo/dev.vedette.desktop.metainfo.xml": "$stage/dev.vedette.desktop.metainfo.xml"
        }
      }
    }
  }
}
JSON

say "bundling the .deb ($profile, version $version)"
bundle_flags=(build --bundles deb --ci --config "$stage/tauri.release.json")
[ "$profile" = debug ] && bundle_flags+=(--debug)
bundles="$CARGO_TARGET_DIR/$profile/bundle/deb"
rm -rf "$bundles"
(cd src-tauri && "$tauri" "${bundle_flags[@]}")

debs=("$bundles"/*.deb)
[ -e "${debs[0]}" ] || die "the bundler made no .deb under $bundles"
# The bundler compresses with gzip; Debian's own packages use xz, which
# makes a release package about half the size (its best level for a
# release; a quick one for the tests' debug builds, the same path).
if [ "$profile" = release ]; then xz_flags=(-z9 -Sextreme); else xz_flags=(-z0); fi
for d in "${debs[@]}"; do
  say "recompressing $(basename "$d") with xz"
  unpacked="$(mktemp -d)"
  dpkg-deb -R "$d" "$unpacked/root"
  dpkg-deb -Zxz "${xz_flags[@]}" --root-owner-group --build "$unpacked/root" "$d" >/dev/null
  rm -rf "$unpacked"
done
if [ -n "$out" ]; then
  mkdir -p "$out"
  cp "${debs[@]}" "$out/"
  debs=()
  for d in "$bundles"/*.deb; do debs+=("$(cd "$out" && pwd)/$(basename "$d")"); done
fi
for d in "${debs[@]}"; do
  say "built $(basename "$d") ($(du -h "$d" | cut -f1))"
done
printf '%s\n' "${debs[@]}"
