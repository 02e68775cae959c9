// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Starts processes with `posix_spawn` in a new process group, with redirected standard streams and a
/// clean signal state.
enum PosixSpawn {
    /// What to start.
    struct Command: Sendable, Hashable {
        /// The executable; looked up in `PATH` when `searchPath` is set.
        var executable: String
        /// The full argv, including argv[0].
        var arguments: [String]
        /// The complete environment of the child.
        var environment: [String: String]
        var workingDirectory: String
        var stdoutPath: String
        var stderrPath: String
        var searchPath: Bool
    }

    private typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    // glibc declares these under _GNU_SOURCE only, which Swift's Glibc module does not set, so look them up
    // at run time. `addchdir_np` needs glibc 2.29, `addclosefrom_np` glibc 2.34.
    private struct Extensions: @unchecked Sendable {
        var addChdir: AddChdir?
        var addClosefrom: AddClosefrom?
    }

    private static let extensions: Extensions = {
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        return Extensions(
            addChdir: dlsym(handle, "posix_spawn_file_actions_addchdir_np").map {
                unsafeBitCast($0, to: AddChdir.self)
            },
            addClosefrom: dlsym(handle, "posix_spawn_file_actions_addclosefrom_np").map {
                unsafeBitCast($0, to: AddClosefrom.self)
            }
        )
    }()

    /// Starts `command` and returns its pid, which is also its process group id.
    ///
    /// The child gets stdin from `/dev/null`, stdout and stderr appended to the given files, every other
    /// descriptor closed (glibc 2.34+; older glibc relies on descriptors being close-on-exec), an empty signal
    /// mask and default signal dispositions (the agent ignores SIGPIPE; its tasks must not inherit that).
    /// - Throws: `AgentError.launchFailed` with the reason from `posix_spawn`.
    static func spawn(_ command: Command) throws -> pid_t {
        guard let addChdir = Self.extensions.addChdir else {
            throw AgentError(
                .launchFailed,
                "This C library has no posix_spawn_file_actions_addchdir_np; the process runtime needs glibc 2.29 or newer."
            )
        }
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        var result = posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        if result == 0 {
            result = posix_spawn_file_actions_addopen(
                &fileActions,
                1,
                command.stdoutPath,
                O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW,
                0o644
            )
        }
        if result == 0 {
            result = posix_spawn_file_actions_addopen(
                &fileActions,
                2,
                command.stderrPath,
                O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW,
                0o644
            )
        }
        if result == 0, let addClosefrom = Self.extensions.addClosefrom {
            result = addClosefrom(&fileActions, 3)
        }
        if result == 0 {
            result = addChdir(&fileActions, command.workingDirectory)
        }
        guard result == 0 else {
            throw AgentError(
                .launchFailed,
                "Cannot prepare to start '\(command.executable)': \(Self.describe(result))."
            )
        }

        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        )

        let argv = command.arguments.map { strdup($0) } + [nil]
        let envp = command.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status =
            command.searchPath
            ? posix_spawnp(&pid, command.executable, &fileActions, &attributes, argv, envp)
            : posix_spawn(&pid, command.executable, &fileActions, &attributes, argv, envp)
        guard status == 0 else {
            throw AgentError(
                .launchFailed,
                "Cannot start '\(command.executable)' in '\(command.workingDirectory)': \(Self.describe(status)); check that the command exists and is executable."
            )
        }
        return pid
    }

    /// How a reaped process ended, decoded from a `waitpid` status word.
    static func decode(waitStatus status: Int32) -> ContainerTermination.Status {
        let low = status & 0x7f
        if low == 0 {
            return .exited(code: (status >> 8) & 0xff)
        }
        if low != 0x7f {
            return .signaled(signal: low)
        }
        return .unknown(reason: "the process reported stop status \(status)")
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
