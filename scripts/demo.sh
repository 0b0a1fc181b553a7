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
rbmctl=(node "$PROJECT_DIR/dist/src/bin/rbmctl.js")

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
  state=$(systemctl --user is-system-running 2>/dev/null || true)
  [ "$state" = running ] || [ "$state" = degraded ]
}

if user_manager_running; then
  say "systemd --user is running: installing the user service"
  bash "$PROJECT_DIR/scripts/install-user.sh"
  systemctl --user restart rclone-bisync-manager
  rbm=("$HOME/.local/bin/rbmctl")
  "${rbm[@]}" sync demo --wait
  "${rbm[@]}" status
  say "the service runs under systemd: systemctl --user status rclone-bisync-manager; rbmctl --help"
  exit 0
fi

say "no systemd --user manager here: starting a private session bus and running the service on it"
bus_info=$(dbus-daemon --session --fork --print-address=1 --print-pid=1)
export DBUS_SESSION_BUS_ADDRESS=$(sed -n 1p <<<"$bus_info")
bus_pid=$(sed -n 2p <<<"$bus_info")
node "$PROJECT_DIR/dist/src/bin/daemon.js" --config "$config" &
service_pid=$!
cleanup() {
  kill -TERM "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
  kill "$bus_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  "${rbmctl[@]}" status >/dev/null 2>&1 && break
  kill -0 "$service_pid" 2>/dev/null || die "the service exited during start-up"
  sleep 0.1
done
"${rbmctl[@]}" sync demo --wait
"${rbmctl[@]}" status
if [ "$mode" = foreground ]; then
  say "the service keeps running on DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS; press Ctrl-C to stop it"
  wait "$service_pid"
else
  say "demo done; stopping the service (run with --foreground to keep it running)"
fi
