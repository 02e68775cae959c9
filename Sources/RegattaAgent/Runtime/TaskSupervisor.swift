// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The tiny `/bin/sh` supervisor every command task runs under, so that a task's exit status outlives the agent.
///
/// The agent writes the script to `<run_dir>/supervisor.sh` and spawns `/bin/sh <run_dir>/supervisor.sh
/// [<cgroup.procs>…]` as the leader of a new process group, in the sandbox, with the task's environment plus the
/// command's argv in `REGATTA_COMMAND_ARGC` and `REGATTA_COMMAND_ARG_<i>` (so the command appears only in the
/// command's own process, not in the supervisor's: `pgrep -f <command>` finds the task, not its supervisor). The
/// script
///
/// 1. writes its pid to `<run_dir>/supervisor.pid`;
/// 2. writes its own pid into each given `cgroup.procs` file, so the task is inside its control groups before its
///    command is even forked (race-free: nothing of the task ever runs outside them); if that fails it writes
///    the reason to `<run_dir>/supervisor_error` and exits 125 without running the command;
/// 3. rebuilds the command's argv from the environment and removes those variables, so the command never sees them;
/// 4. catches SIGTERM (a caught signal is reset to the default in the child at exec, so the command gets SIGTERM
///    as usual while the supervisor survives it);
/// 5. runs the command in the foreground (not with `&`, which would make the command ignore SIGINT and SIGQUIT),
///    in the same process group, so signals the agent sends to the group reach it;
/// 6. writes the command's exit code to `<run_dir>/exit_status` once it ends, then SIGKILLs whatever is left of
///    its process group, itself included (as Mesos destroys a container whose executor ended).
///
/// The agent escalates a kill to SIGKILL for every member of the group and control groups except the
/// supervisor, which then records how the command ended. A restarted agent, no longer the supervisor's parent,
/// watches it by pid and start time and reads `exit_status` when it is gone.
///
/// - Note: a shell reports a command killed by signal N as exit code 128 + N, so codes 129…192 are read as
///   signals; a command that itself exits with such a code is reported as killed by that signal.
enum TaskSupervisor {
    static let scriptFileName = "supervisor.sh"
    static let exitStatusFileName = "exit_status"
    static let pidFileName = "supervisor.pid"
    static let errorFileName = "supervisor_error"
    /// The supervisor's exit code when it cannot enter the task's control groups.
    static let setupFailedCode: Int32 = 125

    /// The script, run as `/bin/sh <run_dir>/supervisor.sh [<cgroup.procs>…]`.
    static let script = #"""
        # Regatta task supervisor: see TaskSupervisor in Sources/RegattaAgent.
        run=${0%/*}
        echo $$ > "$run/supervisor.pid"
        for procs in "$@"; do
          if ! echo $$ 2>/dev/null > "$procs"; then
            echo "cannot move the task into the control group '$procs'" > "$run/supervisor_error"
            echo "regatta: cannot move the task into the control group '$procs'" >&2
            exit 125
          fi
        done
        set --
        i=0
        while [ "$i" -lt "${REGATTA_COMMAND_ARGC:-0}" ]; do
          eval "set -- \"\$@\" \"\${REGATTA_COMMAND_ARG_$i}\""
          unset "REGATTA_COMMAND_ARG_$i"
          i=$((i + 1))
        done
        unset REGATTA_COMMAND_ARGC i procs
        trap ':' TERM
        "$@"
        status=$?
        echo "$status" > "$run/exit_status"
        trap - TERM
        kill -KILL 0

        """#

    /// Writes the script into the run directory and returns the supervisor's argv (for `/bin/sh`).
    ///
    /// - Throws: `AgentError.launchFailed` if the script cannot be written.
    static func prepare(runDirectory: String, cgroupProcsFiles: [String]) throws -> [String] {
        let path = runDirectory + "/" + Self.scriptFileName
        do {
            try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw AgentError(
                .launchFailed,
                "Cannot write the task supervisor '\(path)'; check that the work directory is writable.",
                cause: error
            )
        }
        return ["sh", path] + cgroupProcsFiles
    }

    /// The environment variables that carry the command's argv to the supervisor.
    static func commandEnvironment(_ command: [String]) -> [String: String] {
        var environment = ["REGATTA_COMMAND_ARGC": String(command.count)]
        for (index, argument) in command.enumerated() {
            environment["REGATTA_COMMAND_ARG_\(index)"] = argument
        }
        return environment
    }

    /// The exit code recorded in `path`, or `nil` if the command has not ended (or the file is unreadable).
    static func readExitStatus(_ path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The reason the supervisor wrote before giving up, if any.
    static func readError(runDirectory: String, fileName: String = Self.errorFileName) -> String? {
        guard let text = try? String(contentsOfFile: runDirectory + "/" + fileName, encoding: .utf8)
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
