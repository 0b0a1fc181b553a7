#!/usr/bin/env bash
# Quick start: install what is missing, bring up the service and sync a demo job (two local folders, no cloud account).
# Idempotent. Uses the systemd --user manager when one is running; otherwise starts a private session bus and runs the
# service on it (in the foreground when run from a terminal).
# Usage: bash scripts/demo.sh [--once | --foreground]
#   --once        stop the service again after the demo sync (default when stdin is not a terminal)
#   --foreground  keep the private-bus service running until Ctrl-C (default from a terminal)
source "$(dirname "$0")/lib.sh"

mode=auto
case "${1:-}" in
  --once) mode=once ;;
  --foreground) mode=foreground ;;
  "") ;;
  *) die "unknown option: $1 (use --once or --foreground)" ;;
esac
[ "$mode" = auto ] && { [ -t 0 ] && mode=foreground || mode=once; }

ensure_packages "${RUNTIME_PACKAGES[@]}"
ensure_node_modules
build_project

config_dir="${XDG_CONFIG_HOME:-$HOME/.config}/rclone-bisync-manager"
config="$config_dir/config.yaml"
demo_dir="$HOME/rclone-bisync-demo"
rbmctl=(node "$PROJECT_DIR/bin/rbmctl.js")

say "demo folders: $demo_dir/local <-> $demo_dir/remote"
mkdir -p "$demo_dir/local" "$demo_dir/remote"
[ -e "$demo_dir/local/hello.txt" ] || echo "Hello from the local side ($(date -u +%F))." > "$demo_dir/local/hello.txt"
[ -e "$demo_dir/remote/from-remote.txt" ] || echo "This file started on the remote side." > "$demo_dir/remote/from-remote.txt"

if [ ! -e "$config" ]; then
  say "writing a demo config to $config"
  mkdir -p -m 0700 "$config_dir"
  umask 077
  cat > "$config" <<YAML
# Demo config written by scripts/demo.sh. See examples/config.yaml for every key, with comments.
local_base_path: $demo_dir
max_parallel_jobs: 2
sync_jobs:
  demo:
    local: local                 # resolved against local_base_path
    rclone_remote: local         # "local": the other side is a plain directory, no rclone remote needed
    remote: $demo_dir/remote
    schedule: "*/15 * * * *"     # every 15 minutes
    check_access: false
YAML
elif ! grep -qE '^[[:space:]]+demo:' "$config"; then
  die "$config exists and has no 'demo' job; the demo leaves your config alone. Add a job (see examples/config.yaml) or move the file aside."
fi
"${rbmctl[@]}" check-config --config "$config"

user_manager_running() {
  command -v systemctl >/dev/null || return 1
  local state
  state=$(systemctl --user is-system-running --wait 2>/dev/null || true)
  [ "$state" = running ] || [ "$state" = degraded ]
}

if user_manager_running; then
  say "systemd --user is running: installing the user service"
  bash "$PROJECT_DIR/scripts/install-user.sh"
  systemctl --user reset-failed rclone-bisync-manager 2>/dev/null || true
  if ! systemctl --user restart rclone-bisync-manager; then
    systemctl --user status --no-pager rclone-bisync-manager || true
    die "the service did not start (see above and journalctl --user -u rclone-bisync-manager)"
  fi
  rbm=("$HOME/.local/bin/rbmctl")
  "${rbm[@]}" sync demo --wait
  "${rbm[@]}" status
  say "the service runs under systemd: systemctl --user status rclone-bisync-manager; rbmctl --help"
  exit 0
fi

if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  say "no systemd --user manager is reachable from this shell (XDG_RUNTIME_DIR is unset, e.g. under sudo or su)"
else
  say "no systemd --user manager here"
fi
say "starting a private session bus and running the service on it"
# A minimal bus with no service directories, so D-Bus activation cannot start an installed copy that races this one.
bus_dir=$(mktemp -d)
cat > "$bus_dir/bus.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=$bus_dir</listen><auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
XML
bus_pid="" service_pid=""
cleanup() {
  [ -n "$service_pid" ] && kill -TERM "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
  rm -rf "$bus_dir"
}
trap cleanup EXIT
bus_info=$(dbus-daemon --config-file="$bus_dir/bus.conf" --fork --print-address=1 --print-pid=1)
export DBUS_SESSION_BUS_ADDRESS=$(sed -n 1p <<<"$bus_info")
bus_pid=$(sed -n 2p <<<"$bus_info")
node "$PROJECT_DIR/bin/rclone-bisync-manager.js" --config "$config" &
service_pid=$!
for _ in $(seq 1 100); do
  "${rbmctl[@]}" status >/dev/null 2>&1 && break
  kill -0 "$service_pid" 2>/dev/null || die "the service exited during start-up"
  sleep 0.1
done
"${rbmctl[@]}" sync demo --wait
"${rbmctl[@]}" status
if [ "$mode" = foreground ]; then
  say "the service keeps running; press Ctrl-C to stop it. From another terminal:"
  printf '    export DBUS_SESSION_BUS_ADDRESS=%q; node %q status\n' "$DBUS_SESSION_BUS_ADDRESS" "$PROJECT_DIR/bin/rbmctl.js" >&2
  wait "$service_pid"
else
  say "demo done; stopping the service (run with --foreground to keep it running)"
fi
