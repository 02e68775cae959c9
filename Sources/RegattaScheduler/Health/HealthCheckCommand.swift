// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Runs a COMMAND health check as a child process of the scheduler: `/bin/sh -c <value>` in its own process group,
/// standard streams on `/dev/null`, other descriptors closed, with a timeout after which the whole group is killed.
///
/// - Important: In Marathon, COMMAND checks run on the agent inside the task's sandbox. Running them in the
///   scheduler is only right when the scheduler and the agent share a machine (`regatta dev`); the command sees
///   the instance's `HOST`, `PORT`, `PORTS` and `PORT0`… and `PATH`, not the task's full environment or sandbox.
enum HealthCheckCommand {
    /// Runs `value` and returns the outcome; exit status 0 is healthy.
    static func run(_ value: String, environment: [String: String], timeout: Duration) async -> HealthCheckOutcome {
        let pid: pid_t
        switch self.spawn(value, environment: environment) {
        case .success(let spawned): pid = spawned
        case .failure(let reason): return .unhealthy(reason)
        }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        // waitpid(WNOHANG) polled with a growing pause: nothing blocks a cooperative thread, and a quick command
        // is noticed within a millisecond or two.
        var pause = Duration.milliseconds(1)
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited == -1 && errno != EINTR {
                _ = kill(-pid, SIGKILL)
                return .unhealthy("cannot wait for the health check command: \(String(cString: strerror(errno)))")
            }
            if Task.isCancelled {
                Self.killAndReap(pid)
                return .skipped
            }
            if ContinuousClock.now >= deadline {
                Self.killAndReap(pid)
                return .unhealthy("the health check command timed out after \(NetworkHealthChecker.describe(timeout))")
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(20))
        }
        // The shell is gone; anything it left running in its group goes too.
        _ = kill(-pid, SIGKILL)
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            return code == 0 ? .healthy : .unhealthy("the health check command exited with status \(code)")
        }
        return .unhealthy("the health check command was killed by signal \(signal)")
    }

    private enum Spawned {
        case success(pid_t)
        case failure(String)
    }

    private typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private struct Extensions: @unchecked Sendable {
        var addClosefrom: AddClosefrom?
    }

    // glibc declares posix_spawn_file_actions_addclosefrom_np (2.34+) under _GNU_SOURCE only, which Swift's Glibc
    // module does not set, so look it up at run time; without it the child relies on close-on-exec descriptors.
    private static let extensions: Extensions = {
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        return Extensions(
            addClosefrom: dlsym(handle, "posix_spawn_file_actions_addclosefrom_np").map {
                unsafeBitCast($0, to: AddClosefrom.self)
            })
    }()

    private static func killAndReap(_ pid: pid_t) {
        _ = kill(-pid, SIGKILL)
        var status: Int32 = 0
        // SIGKILL cannot be caught, so the shell ends at once and this wait is short.
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    private static func spawn(_ value: String, environment: [String: String]) -> Spawned {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        for descriptor: Int32 in 0...2 {
            let mode = descriptor == 0 ? O_RDONLY : O_WRONLY
            let result = posix_spawn_file_actions_addopen(&fileActions, descriptor, "/dev/null", mode, 0)
            guard result == 0 else {
                return .failure("cannot prepare the health check command: \(String(cString: strerror(result)))")
            }
        }
        if let addClosefrom = Self.extensions.addClosefrom {
            let result = addClosefrom(&fileActions, 3)
            guard result == 0 else {
                return .failure("cannot prepare the health check command: \(String(cString: strerror(result)))")
            }
        }
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let arguments: [String] = ["sh", "-c", value]
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/sh", &fileActions, &attributes, argv, envp)
        guard status == 0 else {
            return .failure("cannot start the health check command with /bin/sh: \(String(cString: strerror(status)))")
        }
        return .success(pid)
    }
}
