// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The tiny `/bin/sh` supervisor every command task runs under, so that a task's exit status outlives the agent.
///
/// The agent spawns `/bin/sh -c <script> regatta-supervisor <run_dir> [<cgroup.procs>…] -- <command…>` as the
/// leader of a new process group, in the sandbox, with the task's environment. The script
///
/// 1. writes its pid to `<run_dir>/supervisor.pid`;
/// 2. writes its own pid into each given `cgroup.procs` file, so the task is inside its control groups before its
///    command is even forked (race-free: nothing of the task ever runs outside them); if that fails it writes
///    the reason to `<run_dir>/supervisor_error` and exits 125 without running the command;
/// 3. catches SIGTERM (a caught signal is reset to the default in the child at exec, so the command gets SIGTERM
///    as usual while the supervisor survives it);
/// 4. runs the command in the foreground (not with `&`, which would make the command ignore SIGINT and SIGQUIT),
///    in the same process group, so signals the agent sends to the group reach it;
/// 5. writes the command's exit code to `<run_dir>/exit_status` once it ends, then SIGKILLs whatever is left of
///    its process group, itself included (as Mesos destroys a container whose executor ended).
///
/// The agent escalates a kill to SIGKILL for every member of the group and control groups except the
/// supervisor, which then records how the command ended. A restarted agent, no longer the supervisor's parent,
/// watches it by pid and start time and reads `exit_status` when it is gone.
///
/// - Note: a shell reports a command killed by signal N as exit code 128 + N, so codes 129…192 are read as
///   signals; a command that itself exits with such a code is reported as killed by that signal.
enum TaskSupervisor {
    static let exitStatusFileName = "exit_status"
    static let pidFileName = "supervisor.pid"
    static let errorFileName = "supervisor_error"
    /// The supervisor's exit code when it cannot enter the task's control groups.
    static let setupFailedCode: Int32 = 125

    /// The script run by `/bin/sh -c`; `$0` is `regatta-supervisor`.
    static let script = """
        run=$1; shift
        echo $$ > "$run/supervisor.pid"
        while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
          if ! echo $$ 2>/dev/null > "$1"; then
            echo "cannot move the task into the control group '$1'" > "$run/supervisor_error"
            echo "regatta: cannot move the task into the control group '$1'" >&2
            exit 125
          fi
          shift
        done
        shift
        trap ':' TERM
        "$@"
        status=$?
        echo "$status" > "$run/exit_status"
        trap - TERM
        kill -KILL 0
        """

    /// The supervisor's argv (for `/bin/sh`).
    static func arguments(runDirectory: String, cgroupProcsFiles: [String], command: [String]) -> [String] {
        ["sh", "-c", Self.script, "regatta-supervisor", runDirectory] + cgroupProcsFiles + ["--"] + command
    }

    /// The exit code recorded in `path`, or `nil` if the command has not ended (or the file is unreadable).
    static func readExitStatus(_ path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The reason the supervisor wrote before giving up, if any.
    static func readError(runDirectory: String) -> String? {
        guard let text = try? String(contentsOfFile: runDirectory + "/" + Self.errorFileName, encoding: .utf8)
        else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// How the command ended, from the exit code its shell reported: 129…192 are signals 1…64.
    static func status(exitCode code: Int32) -> ContainerTermination.Status {
        if code > 128 && code <= 128 + 64 {
            return .signaled(signal: code - 128)
        }
        return .exited(code: code)
    }
}
