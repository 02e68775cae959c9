// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Drops a task's privileges, then execs its command: the `regatta` binary run as
/// `regatta __regatta_task_launcher <user> <uid> <gid> <error-file|-> -- <command> [args…]`.
///
/// The agent starts tasks with `posix_spawn` (through the ``TaskSupervisor`` shell, which stays root: it moves the
/// task into its control groups and records its exit status in the root-owned run directory). Neither can change
/// user between fork and exec, and doing `initgroups` (which reads `/etc/group` and may take locks) between `fork`
/// and `exec` of a multi-threaded agent is unsafe. So the supervisor runs the command through this launcher, a fresh
/// single-threaded process that, as Mesos's `mesos-containerizer launch` does,
///
/// 1. opens the error file (before it loses the right to), close-on-exec;
/// 2. `setgid(gid)`, `initgroups(user, gid)`, `setuid(uid)` — in that order, since each later step removes the
///    right to do the earlier ones — and checks that the real and effective ids are the user's and that root
///    cannot be regained;
/// 3. replaces its environment with the task's, then `execvp`s the command, which inherits the working directory
///    and standard streams.
///
/// The task's environment (which a framework chooses: a Marathon app's `env`) never reaches a process while it is
/// root. The supervisor and the launcher start with the agent's own base environment plus the task's variables under
/// prefixed names (``environmentPrefix``), which neither the dynamic loader (`LD_PRELOAD`, `LD_LIBRARY_PATH`) nor the
/// shell interprets; the launcher restores the real names only after `setuid`, just before the `exec`.
///
/// If any step fails it writes why to the error file and exits with ``failureCode`` without running the command, so
/// the task fails with that reason rather than running as the wrong user.
public enum TaskLauncher {
    /// The argument that makes the `regatta` binary act as the launcher (checked before anything else runs).
    public static let subcommand = "__regatta_task_launcher"
    /// The exit code when the launcher could not switch user or exec the command.
    static let failureCode: Int32 = 125
    /// The file, in the run directory, where the launcher of a task writes why it failed.
    static let errorFileName = "launcher_error"
    /// The prefix under which a task's variables travel through the root processes that start it.
    static let environmentPrefix = "REGATTA_TASK_ENV_"

    /// The environment of the root processes that start a task as another user: `base` (the agent's own `PATH`,
    /// `HOME`, `LANG`) and `task` (everything the task will see) under ``environmentPrefix``.
    static func carrying(_ task: [String: String], base: [String: String]) -> [String: String] {
        var environment = base
        for (name, value) in task { environment[Self.environmentPrefix + name] = value }
        return environment
    }

    /// The argv that runs `command` as `user` through `launcher` (`errorFile` `nil` reports on stderr only).
    static func arguments(launcher: String, user: TaskUser, errorFile: String?, command: [String]) -> [String] {
        [launcher, Self.subcommand, user.name, String(user.uid), String(user.gid), errorFile ?? "-", "--"] + command
    }

    /// The path of the running executable (`/proc/self/exe`), for ``AgentConfiguration/taskLauncher``; `nil` if it
    /// cannot be read or was deleted.
    public static func currentExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let path = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.hasSuffix(" (deleted)") ? nil : path
    }

    /// Runs the launcher if `arguments` (a process's argv) ask for it; otherwise returns at once.
    public static func runIfRequested(_ arguments: [String]) {
        guard arguments.count > 1, arguments[1] == Self.subcommand else { return }
        Self.main(arguments)
    }

    /// The launcher: switches user and execs, never returns.
    static func main(_ arguments: [String]) -> Never {
        // argv: exe, subcommand, user, uid, gid, error file, "--", command...
        guard arguments.count >= 8, arguments[6] == "--", let uid = UInt32(arguments[3]),
            let gid = UInt32(arguments[4])
        else {
            Self.fail(-1, "usage: regatta \(Self.subcommand) USER UID GID ERROR_FILE|- -- COMMAND [ARG...]")
        }
        let user = arguments[2]
        let command = Array(arguments[7...])
        var errorFD: Int32 = -1
        if arguments[5] != "-" {
            errorFD = open(arguments[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0o600)
        }
        guard setgid(gid) == 0 else { Self.fail(errorFD, "setgid(\(gid)) failed: \(Self.errnoText())") }
        guard initgroups(user, gid) == 0 else {
            Self.fail(errorFD, "initgroups('\(user)', \(gid)) failed: \(Self.errnoText())")
        }
        guard setuid(uid) == 0 else { Self.fail(errorFD, "setuid(\(uid)) failed: \(Self.errnoText())") }
        guard getuid() == uid, geteuid() == uid, getgid() == gid, getegid() == gid else {
            Self.fail(errorFD, "the process does not run as uid \(uid), gid \(gid) after switching user '\(user)'")
        }
        if uid != 0 && (setuid(0) == 0 || seteuid(0) == 0) {
            Self.fail(errorFD, "the process could regain root after switching to user '\(user)'")
        }
        Self.restoreTaskEnvironment()
        let argv = command.map { strdup($0) } + [nil]
        execvp(command[0], argv)
        Self.fail(errorFD, "cannot run '\(command[0])' as user '\(user)': \(Self.errnoText())")
    }

    /// Replaces the environment with the task's: the ``environmentPrefix`` variables under their real names, and
    /// nothing else.
    private static func restoreTaskEnvironment() {
        var carried: [(String, String)] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if text.hasPrefix(Self.environmentPrefix), let equals = text.firstIndex(of: "=") {
                let name = String(text[text.index(text.startIndex, offsetBy: Self.environmentPrefix.count)..<equals])
                if !name.isEmpty { carried.append((name, String(text[text.index(after: equals)...]))) }
            }
            entry += 1
        }
        clearenv()
        for (name, value) in carried { setenv(name, value, 1) }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }

    private static func fail(_ errorFD: Int32, _ message: String) -> Never {
        let line = "regatta: " + message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        if errorFD >= 0 {
            _ = message.withCString { write(errorFD, $0, strlen($0)) }
        }
        exit(Self.failureCode)
    }
}
