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

say "front ends reach the engine and the feeds only through the use-case layer (vedette-app)"
for front in vedette-cli vedette-desktop vedette-api; do
  direct="$(cargo tree -q -p "$front" -e normal --depth 1 --prefix none | awk '{print $1}' | grep -xE 'vedette-(engine|feeds|scan|scheduler|store|sources|match|extract)' || true)"
  if [ -n "$direct" ]; then
    die "$front depends directly on: $(echo $direct). Front ends call vedette-app (the use-case layer) and only format"
  fi
done

say "matching does no I/O: vedette-match depends on no database, HTTP or async runtime crate"
io="$(cargo tree -q -p vedette-match -e normal --prefix none | awk '{print $1}' | sort -u | grep -xE 'sqlx|sqlx-core|reqwest|hyper|tokio|vedette-feeds|vedette-store' || true)"
[ -z "$io" ] || die "vedette-match depends on $(echo $io): matching must stay a pure function of the advisories (vedette-osv)"

say "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "dependencies: licences, bans and sources (cargo deny, deny.toml)"
cargo deny --log-level error check licenses bans sources

say "building the CLI and the desktop app"
cargo build --quiet -p vedette-cli -p vedette-desktop -p vedette-agent

# The package test installs what the release command builds (debug profile,
# to reuse this build), then upgrades it to a second build one version up.
say "packages: the release command's .deb, and one a version higher to upgrade to"
deb_dir="$(mktemp -d)"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
next="${version%.*}.$((${version##*.} + 1))"
old_deb="$(bash src-tauri/release.sh --debug --version "$version" --out "$deb_dir/old" | tail -n 1)"
new_deb="$(bash src-tauri/release.sh --debug --version "$next" --out "$deb_dir/new" | tail -n 1)"
export VEDETTE_DEBS="$old_deb:$new_deb"

say "Vedette's own dependencies pass its gate (Cargo.lock, ui/package-lock.json against ../shared/feeds)"
self_scan="$(mktemp -d)"
mkdir -p "$self_scan/root/ui"
cp Cargo.lock "$self_scan/root/"
cp ui/package-lock.json "$self_scan/root/ui/"
"$CARGO_TARGET_DIR/debug/vedette" --data-dir "$self_scan/data" feed import ../shared/feeds >/dev/null
if ! "$CARGO_TARGET_DIR/debug/vedette" --data-dir "$self_scan/data" scan dir "$self_scan/root" \
    --offline --policy tests/supply-chain/policy.toml --quiet --output "$self_scan/report.txt"; then
  cat "$self_scan/report.txt" >&2
  rm -rf "$self_scan"
  die "a dependency has a high or critical finding that no exception in tests/supply-chain/policy.toml covers: update it, or write an exception with its reason and expiry there"
fi
rm -rf "$self_scan"

say "tests (unit, integration, end-to-end in the real window)"
mkdir -p tests/artifacts/screenshots
cargo nextest run --workspace --no-fail-fast --failure-output final

# The parsers target dispatches on its first byte across 22 parsers, so it
# gets 60 s (about 2.5 s a parser); the layer reader and references 5 s
# each; version strings up to 1 MiB long, every scheme, 10 s.
say "fuzz smoke: every parser (60 s in all), the layer reader, references and advisories (5 s each), versions up to 1 MiB (10 s), rpm databases in three formats (20 s)"
fuzz_cache="$VEDETTE_CACHE"
for target in parsers layer reference advisories versions rpmdb; do
  corpus="$fuzz_cache/fuzz-corpus/$target"
  mkdir -p "$corpus" "$fuzz_cache/fuzz-artifacts/$target"
  if [ "$target" = parsers ] && [ -z "$(ls -A "$corpus")" ]; then
    # Seed with real inputs: selector byte + file (see fuzz_targets/parsers.rs).
    i=0
    for f in ../shared/fixtures/debian-12-minbase/var/lib/dpkg/status ../shared/fixtures/alpine-3.23/lib/apk/db/installed \
             ../shared/fixtures/debian-12-minbase/etc/os-release ../shared/fixtures/lang/app/py/site-packages/Jinja2-2.10.dist-info/METADATA \
             src-tauri/crates/vedette-extract/testdata/python/requirements.txt src-tauri/crates/vedette-extract/testdata/python/poetry.lock \
             src-tauri/crates/vedette-extract/testdata/python/Pipfile.lock ../shared/fixtures/lang/app/node/package-lock.json \
             src-tauri/crates/vedette-extract/testdata/javascript/yarn-v1.lock src-tauri/crates/vedette-extract/testdata/javascript/pnpm-v9.yaml \
             ../shared/fixtures/lang/app/rust/Cargo.lock src-tauri/crates/vedette-extract/testdata/ruby/rake-13.0.6.gemspec \
             src-tauri/crates/vedette-extract/testdata/ruby/Gemfile.lock src-tauri/crates/vedette-extract/testdata/php/composer.lock \
             src-tauri/crates/vedette-extract/testdata/dotnet/packages.lock.json src-tauri/crates/vedette-extract/testdata/dotnet/app.deps.json; do
      { printf "\\$(printf '%03o' "$i")"; head -c 65536 "$f"; } > "$corpus/seed-$i"
      i=$((i + 1))
    done
    # Binary formats: selector 16 rpmdb.sqlite, 19 a cargo-auditable binary.
    for pair in "16:src-tauri/crates/vedette-extract/testdata/rpm/rpmdb.sqlite" "19:src-tauri/crates/vedette-extract/testdata/rust/audhello"; do
      sel="${pair%%:*}"; f="${pair#*:}"
      { printf "\\$(printf '%03o' "$sel")"; cat "$f"; } > "$corpus/seed-$sel"
    done
  fi
  if [ "$target" = versions ] && [ -z "$(ls -A "$corpus")" ]; then
    # Long versions of the shapes that nest, repeat or split (1 MiB at most).
    python3 - "$corpus" <<'PY'
import os, sys
seeds = {
    "maven-dashes": "1-" * 300000 + "1\n" + "1-" * 300000 + "2",
    "dots": ".".join(["1"] * 300000) + "\n" + ".".join(["1"] * 300000) + ".1",
    "alnum": "a1" * 250000 + "\n" + "a1" * 250000 + "b",
    "tilde": "1~" * 250000 + "\n1.0",
    "build": "1.0+" + "a." * 250000 + "\n1.0",
    "pep440": "1!" + "1." * 200000 + "1rc1.post1.dev1\n1.0",
    "digits": "9" * 1000000 + "\n" + "9" * 999999,
    "prerelease": "1.0-" + "alpha." * 150000 + "1\n1.0-alpha",
}
for name, text in seeds.items():
    with open(os.path.join(sys.argv[1], "seed-" + name), "wb") as f:
        f.write(text.encode()[:1 << 20])
PY
  fi
  if [ "$target" = rpmdb ]; then
    # Real databases of each format (selector byte, see fuzz_targets/rpmdb.rs).
    # Their mutants run to megabytes each: start from the seeds every run.
    rm -rf "$corpus" && mkdir -p "$corpus"
    for pair in "0:../shared/fixtures/rpmdb/cbl-mariner-2.0-sqlite/rpmdb.sqlite" "1:../shared/fixtures/rpmdb/ubi8-libuuid-bdb/Packages" \
                "2:../shared/fixtures/rpmdb/sle15-bci-ndb/Packages.db"; do
      sel="${pair%%:*}"; f="${pair#*:}"
      { printf "\\$(printf '%03o' "$sel")"; cat "$f"; } > "$corpus/seed-$sel"
    done
  fi
  # libFuzzer's default input length is the largest seed's (or 4096).
  case "$target" in
    parsers) seconds="${VEDETTE_FUZZ_PARSER_SECONDS:-60}"; len=() ;;
    versions) seconds="${VEDETTE_FUZZ_VERSION_SECONDS:-10}"; len=(-max_len=1048576) ;;
    rpmdb) seconds="${VEDETTE_FUZZ_RPMDB_SECONDS:-20}"; len=(-max_len=4194304) ;;
    *) seconds="${VEDETTE_FUZZ_SECONDS:-5}"; len=() ;;
  esac
  (cd tests/fuzz && CARGO_TARGET_DIR="$fuzz_cache/fuzz-target" cargo fuzz run --sanitizer none --fuzz-dir . "$target" "$corpus" -- \
    -max_total_time="$seconds" "${len[@]}" -rss_limit_mb=1024 -timeout=10 -artifact_prefix="$fuzz_cache/fuzz-artifacts/$target/" 2>&1 |
    grep -E "^Done|ERROR|SUMMARY|panicked" >&2)
done

say "frontend bindings match the Rust types"
if git -C "$VEDETTE_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  if ! git diff --exit-code --stat -- ui/src/bindings || [ -n "$(git ls-files --others --exclude-standard ui/src/bindings)" ]; then
    die "ui/src/bindings changed when the tests regenerated them: commit the regenerated files"
  fi
fi

say "all checks passed in $(( $(date +%s) - start )) s; screenshots in tests/artifacts/screenshots/"
