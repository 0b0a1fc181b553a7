# fish completion for rbmctl (rclone-bisync-manager).
# Completes commands, their real long options, and job names: from the running service when it is up (it is never
# started for this), else from the config file. Installed by scripts/install-user.sh; also printed by
# `rbmctl completion fish`.


# The words typed so far that are not options or option values: the command, then its arguments.
function __rbmctl_args
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for word in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case --config --timeout --limit -n --token --local --remote --schedule --filters-file --conflict-resolve
                set skip 1
            case '-*'
            case '*'
                echo $word
        end
    end
end

# True when no command has been given yet.
function __rbmctl_needs_command
    test (count (__rbmctl_args)) -eq 0
end

# True when the command is one of $argv.
function __rbmctl_using
    set -l args (__rbmctl_args)
    test (count $args) -ge 1; and contains -- $args[1] $argv
end

# True when the command is one of $argv and its single argument is not given yet.
function __rbmctl_first_arg
    set -l args (__rbmctl_args)
    test (count $args) -eq 1; and contains -- $args[1] $argv
end

# Job names from `rbmctl __complete-jobs` (the service if it runs, never started for this; else the config file).
function __rbmctl_jobs
    command rbmctl __complete-jobs $argv 2>/dev/null
end

complete -c rbmctl -f

# Global options.
complete -c rbmctl -l json -d 'Print data as JSON'
complete -c rbmctl -s d -l dry-run -d 'Runs change nothing (rclone --dry-run)'
complete -c rbmctl -l console-log -d 'Log to the console (one-shot mode)'
complete -c rbmctl -l config -r -F -d 'Config file (one-shot mode, check-config)'
complete -c rbmctl -l timeout -x -d 'Seconds to wait for a reply from the service'
complete -c rbmctl -l auto-start -d 'Let the bus start the service if needed'
complete -c rbmctl -l no-auto-start -d 'Never let the bus start the service'
complete -c rbmctl -s h -l help -d 'Show help'
complete -c rbmctl -l version -d 'Show the version'

# Commands.
complete -c rbmctl -n __rbmctl_needs_command -a status -d 'Show the service and its jobs'
complete -c rbmctl -n __rbmctl_needs_command -a jobs -d 'List the configured jobs'
complete -c rbmctl -n __rbmctl_needs_command -a sync -d 'Sync now (default: every active job)'
complete -c rbmctl -n __rbmctl_needs_command -a add-sync -d 'Pick up jobs just added to the config file and sync them'
complete -c rbmctl -n __rbmctl_needs_command -a add-job -d 'Add a job to the config file and run its first sync'
complete -c rbmctl -n __rbmctl_needs_command -a remove-job -d 'Remove a job from the config file and the schedule'
complete -c rbmctl -n __rbmctl_needs_command -a pause -d 'Stop scheduling jobs'
complete -c rbmctl -n __rbmctl_needs_command -a resume -d 'Schedule paused jobs again'
complete -c rbmctl -n __rbmctl_needs_command -a cancel -d 'Stop running or queued syncs safely'
complete -c rbmctl -n __rbmctl_needs_command -a snooze -d 'Silence notifications for a while: [JOB...] DURATION'
complete -c rbmctl -n __rbmctl_needs_command -a unsnooze -d 'End a snooze (no job: every snooze)'
complete -c rbmctl -n __rbmctl_needs_command -a history -d 'Show past runs, newest first'
complete -c rbmctl -n __rbmctl_needs_command -a approve -d 'Review and approve what a safety abort would delete'
complete -c rbmctl -n __rbmctl_needs_command -a reload -d 'Re-read the config file'
complete -c rbmctl -n __rbmctl_needs_command -a watch -d 'Follow the service: one line per event'
complete -c rbmctl -n __rbmctl_needs_command -a check-config -d 'Validate the config file offline'
complete -c rbmctl -n __rbmctl_needs_command -a daemon -d 'Start, stop, check or reload the service'
complete -c rbmctl -n __rbmctl_needs_command -a completion -d 'Print the completion script for a shell'

# Job names.
complete -c rbmctl -n '__rbmctl_using sync pause resume cancel snooze unsnooze' -a '(__rbmctl_jobs)' -d job
complete -c rbmctl -n '__rbmctl_first_arg status history approve remove-job' -a '(__rbmctl_jobs)' -d job
complete -c rbmctl -n '__rbmctl_using add-sync' -a '(__rbmctl_jobs --from-config)' -d job

# Command options.
complete -c rbmctl -n '__rbmctl_using status' -l short -d 'One line for a status bar'
complete -c rbmctl -n '__rbmctl_using sync' -l resync -d 'Run as --resync (rebuild the listings)'
complete -c rbmctl -n '__rbmctl_using sync' -l force-bisync -d 'Run the named jobs with --force once'
complete -c rbmctl -n '__rbmctl_using sync' -s w -l wait -d 'Follow the runs and exit with their outcome'
complete -c rbmctl -n '__rbmctl_using sync' -l standalone -d 'Run once in this process, without the service'
complete -c rbmctl -n '__rbmctl_using sync' -l respect-conditions -d "Wait for the job's run conditions like a scheduled run"
complete -c rbmctl -n '__rbmctl_using history' -s n -l limit -x -d 'How many runs'
complete -c rbmctl -n '__rbmctl_using approve' -l all -d 'List every pending delete'
complete -c rbmctl -n '__rbmctl_using approve' -l token -x -d 'The token printed with the list you reviewed'
complete -c rbmctl -n '__rbmctl_using approve' -s y -l yes -d 'Do not ask (needs --token)'
complete -c rbmctl -n '__rbmctl_using add-job' -l local -x -a '(__fish_complete_directories)' -d 'Local folder (Path1)'
complete -c rbmctl -n '__rbmctl_using add-job' -l remote -x -d 'REMOTE:PATH (Path2)'
complete -c rbmctl -n '__rbmctl_using add-job' -l schedule -x -d 'Cron expression'
complete -c rbmctl -n '__rbmctl_using add-job' -l active -d 'Schedule the job'
complete -c rbmctl -n '__rbmctl_using add-job' -l no-active -d 'Configured but idle'
complete -c rbmctl -n '__rbmctl_using add-job' -l check-access -d 'Seed and check RCLONE_TEST files'
complete -c rbmctl -n '__rbmctl_using add-job' -l auto-resync -d 'Resync on its own after a lockout'
complete -c rbmctl -n '__rbmctl_using add-job' -l filters-file -r -F -d 'rclone filters file for this job'
complete -c rbmctl -n '__rbmctl_using add-job' -l conflict-resolve -x -a 'none path1 path2 newer older larger smaller' -d 'Conflict policy (rclone >= 1.66)'
complete -c rbmctl -n '__rbmctl_first_arg daemon' -a 'start stop status reload'
complete -c rbmctl -n '__rbmctl_first_arg completion' -a 'bash zsh fish'
