# Where install-user.sh puts things and where uninstall-user.sh finds them. Sourced, never run.
# Inputs (environment): PREFIX (default ~/.local), DESTDIR (staging root for packagers), XDG_CONFIG_HOME, XDG_DATA_HOME,
# UNITDIR and DBUSDIR (overrides for packagers).
set -euo pipefail

APP=rclone-bisync-manager
UNIT_NAME=$APP.service

: "${HOME:?HOME is not set}"
PREFIX="${PREFIX:-$HOME/.local}"
PREFIX="${PREFIX%/}"
DESTDIR="${DESTDIR:-}"
DESTDIR="${DESTDIR%/}"
# A relative DESTDIR is taken from where the command was run (npm run: the project directory), before any cd.
case "$DESTDIR" in "" | /*) ;; *) DESTDIR="$PWD/$DESTDIR" ;; esac
case "$PREFIX" in /*) ;; *) echo "error: PREFIX must be an absolute path, got '$PREFIX'" >&2; exit 2 ;; esac

# A prefix inside the home directory is a per-user install: the unit goes to the user's own unit directory and the
# D-Bus files under XDG_DATA_HOME. Anything else (/usr, /usr/local, /opt/...) is a system-wide install for packagers.
case "$PREFIX/" in
  "$HOME"/*) INSTALL_MODE=user ;;
  *) INSTALL_MODE=system ;;
esac

BINDIR="$PREFIX/bin"
LIBDIR="$PREFIX/lib/$APP"
MANIFEST="$LIBDIR/install-manifest"
CONFIG_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/$APP"
# The user's own unit directory: systemctl --user enable links units there, and a unit file there overrides ours.
USER_CONFIG_UNITDIR="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
if [ "$INSTALL_MODE" = user ]; then
  # Where units of packages installed in the home belong (systemd.unit(5)); before 0.2 it went to USER_CONFIG_UNITDIR.
  UNITDIR="${UNITDIR:-${XDG_DATA_HOME:-$HOME/.local/share}/systemd/user}"
  DBUSDIR="${DBUSDIR:-${XDG_DATA_HOME:-$HOME/.local/share}/dbus-1}"
else
  UNITDIR="${UNITDIR:-$PREFIX/lib/systemd/user}"
  DBUSDIR="${DBUSDIR:-$PREFIX/share/dbus-1}"
fi

# True when a systemd user manager answers for this user (not the case in containers or over plain su).
user_manager_reachable() {
  command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1
}
