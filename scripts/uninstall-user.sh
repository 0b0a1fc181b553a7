#!/usr/bin/env bash
# Removes what scripts/install-user.sh installed, exactly as its manifest lists it: the application, the executables,
# the unit (where this or an older install put it) and the D-Bus files. Never touches the config, the state or the
# logs. Idempotent.
#
#   npm run uninstall-user                    per user (same PREFIX as the install, default ~/.local)
#   PREFIX=/usr DESTDIR=pkg npm run uninstall-user
set -euo pipefail

if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
[ $# -eq 0 ] || { echo "error: unexpected argument '$1' (see --help)" >&2; exit 2; }

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$PROJECT_DIR/scripts/install-paths.sh"
say() { printf '==> %s\n' "$*" >&2; }

if [ ! -f "$DESTDIR$MANIFEST" ]; then
  say "nothing to uninstall: no manifest at $DESTDIR$MANIFEST (set PREFIX to the one you installed with)"
  exit 0
fi
mapfile -t entries < <(grep -v '^#' "$DESTDIR$MANIFEST" | grep -v '^$' || true)

live=no
if [ "$INSTALL_MODE" = user ] && [ -z "$DESTDIR" ] && user_manager_reachable; then
  live=yes
  # Stop the service and drop the enablement symlink before its unit file goes away.
  if systemctl --user cat "$UNIT_NAME" >/dev/null 2>&1; then
    say "stopping and disabling $UNIT_NAME"
    systemctl --user disable --now "$UNIT_NAME" >/dev/null 2>&1 || systemctl --user stop "$UNIT_NAME" || true
  fi
fi

# Enablement links left to a unit file this install put in place (no user manager to disable it, or an older install
# whose unit lived in the user's own unit directory): they would dangle once the file is gone.
if [ "$INSTALL_MODE" = user ]; then
  for link in "$DESTDIR$USER_CONFIG_UNITDIR"/*.wants/"$UNIT_NAME" "$DESTDIR$USER_CONFIG_UNITDIR"/*.requires/"$UNIT_NAME"; do
    [ -L "$link" ] || continue
    printf '%s\n' "${entries[@]}" | grep -qxF "file $(readlink "$link")" || continue
    rm -f "$link"
  done
fi

removed=0
dirs=()
for line in "${entries[@]}"; do
  kind="${line%% *}" path="${line#* }"
  case "$path" in /*) ;; *) say "skipping a malformed manifest line: $line"; continue ;; esac
  case "$kind" in
    file)
      if [ -e "$DESTDIR$path" ] || [ -L "$DESTDIR$path" ]; then rm -f "$DESTDIR$path"; removed=$((removed + 1)); fi ;;
    tree)
      # Only the application's own directory, never anything else a corrupted manifest might name.
      [ "$(basename "$path")" = "$APP" ] && [ "$path" = "$LIBDIR" ] || { say "refusing to remove $path"; continue; } ;;
    dir) dirs+=("$path") ;;
    *) say "skipping an unknown manifest entry: $line" ;;
  esac
done

# The application tree last among the files: it holds the manifest.
rm -rf "$DESTDIR$LIBDIR"
removed=$((removed + 1))

# Directories the install created, innermost first, and only when nothing else lives in them.
if [ ${#dirs[@]} -gt 0 ]; then
  while IFS= read -r dir; do
    rmdir "$DESTDIR$dir" 2>/dev/null || true
  done < <(printf '%s\n' "${dirs[@]}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-)
fi

if [ "$live" = yes ]; then
  systemctl --user daemon-reload
  systemctl --user reset-failed "$UNIT_NAME" >/dev/null 2>&1 || true
fi

say "uninstalled $APP ($removed entries removed)"
if [ "$INSTALL_MODE" = user ]; then
  echo "  kept: your config ($CONFIG_DIR) and the service's state and logs; delete them yourself if you want them gone"
fi
# The completions and manual pages are in the manifest and went with the files above; zsh may remember _rbmctl.
if [ "$INSTALL_MODE" = user ]; then
  echo "  zsh keeps a completion cache: run rm -f ~/.zcompdump* if it still offers rbmctl"
fi
