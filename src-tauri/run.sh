#!/usr/bin/env bash
# The app command: installs what is missing, builds Vedette and starts the
# desktop app. Without a display it runs inside Xvfb, saves a screenshot of its
# window and keeps running (the tray app's work goes on without a screen).
# Arguments go to the app, e.g. `bash src-tauri/run.sh --data-dir /tmp/v`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tests/setup.sh"
cd "$VEDETTE_ROOT"

build_ui
say "building Vedette (optimised; the first build takes about 15 minutes on 2 cores)"
cargo build --quiet --release -p vedette-cli -p vedette-desktop
app="$CARGO_TARGET_DIR/release/vedette-desktop"

# A data dir for the screenshot's location, as the app resolves it.
data_dir="${VEDETTE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/vedette}"
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = "--data-dir" ]; then j=$((i + 1)); data_dir="${!j}"; fi
done

# Inside a session bus (and Secret Service) when the caller has none.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ -z "${VEDETTE_IN_SESSION:-}" ]; then
  say "no D-Bus session: starting a private one"
  exec env VEDETTE_IN_SESSION=1 dbus-run-session -- bash "$0" "$@"
fi
if ! dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
  if [ -n "${VEDETTE_KEYRING_PASSWORD:-}" ]; then
    say "starting gnome-keyring-daemon, unlocked with VEDETTE_KEYRING_PASSWORD"
    printf '%s' "$VEDETTE_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  else
    say "starting gnome-keyring-daemon with a keyring for this session only (set VEDETTE_KEYRING_PASSWORD to keep secrets across runs)"
    export XDG_DATA_HOME="$(mktemp -d)/data"
    head -c 24 /dev/urandom | base64 | tr -d '\n' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  fi
fi

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  say "starting Vedette"
  exec "$app" "$@"
fi

say "no display: running Vedette inside Xvfb"
export NO_AT_BRIDGE=1 # no accessibility bus without a screen
xvfb_display_fd=3
exec 3< <(Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp 2>/dev/null)
read -r -u "$xvfb_display_fd" n
export DISPLAY=":$n"
ready_lines() { cat "$data_dir"/logs/vedette-desktop.*.log 2>/dev/null | grep -c "page ready" || true; }
ready_before="$(ready_lines)"
"$app" "$@" &
app_pid=$!
trap 'kill $app_pid 2>/dev/null || true' INT TERM
for _ in $(seq 1 100); do
  xwininfo -name Vedette 2>/dev/null | grep -q "IsViewable" && break
  kill -0 "$app_pid" 2>/dev/null || { wait "$app_pid"; exit $?; }
  sleep 0.2
done
# The dashboard logs "page ready" once what it shows has loaded.
for _ in $(seq 1 150); do
  [ "$(ready_lines)" -gt "$ready_before" ] && break
  sleep 0.2
done
sleep 0.5 # and paint
mkdir -p "$data_dir"
shot="$data_dir/screenshot.png"
import -display "$DISPLAY" -window root "$shot"
say "Vedette is running without a screen (display $DISPLAY, pid $app_pid)."
say "A screenshot of its window is at $shot"
say "It keeps running; stop it with Ctrl-C."
wait "$app_pid"
