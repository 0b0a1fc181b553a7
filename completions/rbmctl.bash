# bash completion for rbmctl (rclone-bisync-manager).
# Completes commands, their real long options, and job names: from the running service when it is up (it is never
# started for this), else from the config file. Installed by scripts/install-user.sh; also printed by
# `rbmctl completion bash`.

_rbmctl_global_opts='--json --dry-run --console-log --config --timeout --auto-start --no-auto-start --help --version'
_rbmctl_commands='status jobs sync add-sync add-job remove-job pause resume cancel snooze unsnooze history approve reload watch check-config daemon completion'

# The long options of one command, besides the global ones.
_rbmctl_command_opts() {
  case "$1" in
    status) echo '--short' ;;
    sync) echo '--resync --force-bisync --wait --standalone --respect-conditions' ;;
    add-job) echo '--local --remote --schedule --active --no-active --check-access --auto-resync --filters-file --conflict-resolve' ;;
    history) echo '--limit' ;;
    approve) echo '--all --token --yes' ;;
  esac
}

# Job names, one per line; --config given on the line is passed on.
_rbmctl_jobs() { # _rbmctl_jobs [--from-config] [--config FILE]
  command rbmctl __complete-jobs "$@" 2>/dev/null
}

_rbmctl() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null 2>&1; then
    _init_completion -n = || return
  else
    cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
  fi

  # Options that take a value: complete the value (or nothing) instead of another option.
  case "$prev" in
    --config | --filters-file) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    --local) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    --conflict-resolve) COMPREPLY=($(compgen -W 'none path1 path2 newer older larger smaller' -- "$cur")); return ;;
    --timeout | --limit | -n | --token | --remote | --schedule) return ;;
  esac

  # Find the command and count the positional words after it; remember --config for the job names.
  local command='' positionals=0 config=() i word
  for ((i = 1; i < cword; i++)); do
    word="${words[i]}"
    case "$word" in
      --config) config=(--config "${words[i+1]}"); ((i++)); continue ;;
      --config=*) config=(--config "${word#--config=}"); continue ;;
      --timeout | --limit | -n | --token | --remote | --schedule | --local | --filters-file | --conflict-resolve) ((i++)); continue ;;
      -*) continue ;;
    esac
    if [ -z "$command" ]; then command="$word"; else positionals=$((positionals + 1)); fi
  done

  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$_rbmctl_global_opts $(_rbmctl_command_opts "$command")" -- "$cur"))
    return
  fi
  case "$command" in
    '') COMPREPLY=($(compgen -W "$_rbmctl_commands" -- "$cur")) ;;
    sync | pause | resume | cancel | snooze | unsnooze) COMPREPLY=($(compgen -W "$(_rbmctl_jobs "${config[@]}")" -- "$cur")) ;;
    add-sync) COMPREPLY=($(compgen -W "$(_rbmctl_jobs --from-config "${config[@]}")" -- "$cur")) ;;
    status | history | approve | remove-job)
      [ "$positionals" -eq 0 ] && COMPREPLY=($(compgen -W "$(_rbmctl_jobs "${config[@]}")" -- "$cur")) ;;
    daemon) [ "$positionals" -eq 0 ] && COMPREPLY=($(compgen -W 'start stop status reload' -- "$cur")) ;;
    completion) [ "$positionals" -eq 0 ] && COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")) ;;
  esac
}
complete -F _rbmctl rbmctl
