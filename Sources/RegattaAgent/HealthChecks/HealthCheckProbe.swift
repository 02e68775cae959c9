// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Glibc
import NIOCore
import RegattaCore

/// Runs one health check of a task; the seam between ``HealthCheckStateMachine`` and the network or processes.
protocol HealthCheckProbe: Sendable {
    /// Runs `check` once and says how it went; never takes (much) longer than `timeout`.
    func run(_ check: HealthCheck, target: HealthCheckTarget, timeout: Duration) async -> HealthCheckStateMachine.Result
}

/// Where a task's checks run.
struct HealthCheckTarget: Hashable, Sendable {
    /// The task's environment, for COMMAND checks (plus the check's own variables).
    var environment: [String: String]
    /// The task's sandbox: the working directory of COMMAND checks.
    var sandbox: String
    /// The task's container when it has its own file system (a Docker task): COMMAND checks then run inside it,
    /// never on the host. `nil` for command tasks.
    var container: ContainerID?
    /// The account a command task runs as: its COMMAND checks run as it too. `nil` for the agent's user.
    var user: TaskUser?

    init(environment: [String: String], sandbox: String, container: ContainerID? = nil, user: TaskUser? = nil) {
        self.environment = environment
        self.sandbox = sandbox
        self.container = container
        self.user = user
    }
}

/// The real checks: COMMAND runs `/bin/sh -c` in the task's sandbox with its environment (exit 0 is healthy) —
/// inside the container for a Docker task (through ``containers``), on the host for a command task, as the task
/// itself runs;
/// HTTP (`MESOS_HTTP`) GETs `http://127.0.0.1:<port><path>` (a status in `statuses`, or 200–399, is healthy), TCP
/// (`MESOS_TCP`) connects to `127.0.0.1:<port>`.
struct SystemHealthCheckProbe: HealthCheckProbe {
    let http: HTTPClient
    /// Runs COMMAND checks inside containers; `nil` when the agent has no such runtime.
    var containers: (any ContainerRuntime)?
    /// The ``TaskLauncher`` executable that runs a check as its task's user; `nil` when the agent has none.
    var launcher: String?

    init(http: HTTPClient, containers: (any ContainerRuntime)? = nil, launcher: String? = nil) {
        self.http = http
        self.containers = containers
        self.launcher = launcher
    }

    func run(_ check: HealthCheck, target: HealthCheckTarget, timeout: Duration) async -> HealthCheckStateMachine.Result
    {
        switch check.type ?? .unknown {
        case .command:
            guard let command = check.command, let value = command.value, !value.isEmpty else {
                return .unhealthy("the COMMAND health check has no command.value")
            }
            if let container = target.container {
                // The container already has the task's environment; add only the check's own variables.
                let environment = command.environment?.dictionary ?? [:]
                guard
                    let status = await self.containers?.runCommand(
                        value,
                        environment: environment,
                        in: container,
                        timeout: timeout
                    )
                else {
                    return .unhealthy("this agent cannot run a COMMAND check inside the task's container")
                }
                return Self.result(of: status)
            }
            var environment = target.environment
            for (name, value) in command.environment?.dictionary ?? [:] { environment[name] = value }
            var commandLine = ["/bin/sh", "-c", value]
            if let user = target.user {
                guard let launcher = self.launcher else {
                    return .unhealthy(
                        "this agent has no task launcher to run the check as user '\(user.name)' (run the regatta binary)"
                    )
                }
                commandLine = TaskLauncher.arguments(
                    launcher: launcher,
                    user: user,
                    errorFile: nil,
                    command: commandLine
                )
                // The launcher is root until it switches: the check's variables travel under prefixed names.
                environment = TaskLauncher.carrying(environment, base: ProcessContainerRuntime.agentEnvironment())
            }
            return await Self.command(
                commandLine,
                environment: environment,
                directory: target.sandbox,
                timeout: timeout
            )
        case .http:
            guard let http = check.http, let port = UInt16(exactly: http.port), port > 0 else {
                return .unhealthy("the HTTP health check has no valid port")
            }
            if let scheme = http.scheme, scheme != "http" {
                return .unhealthy("scheme '\(scheme)' is not supported by agent health checks; use http")
            }
            var path = http.path ?? "/"
            if !path.hasPrefix("/") { path = "/" + path }
            let statuses = http.statuses.flatMap { $0.isEmpty ? nil : Set($0.map(Int.init)) }
            return await self.http(port: port, path: path, statuses: statuses, timeout: timeout)
        case .tcp:
            guard let tcp = check.tcp, let port = UInt16(exactly: tcp.port), port > 0 else {
                return .unhealthy("the TCP health check has no valid port")
            }
            return await Self.tcp(port: port, timeout: timeout)
        case .unknown:
            return .unhealthy("the health check has no known type; use COMMAND, HTTP or TCP")
        }
    }

    private func http(
        port: UInt16,
        path: String,
        statuses: Set<Int>?,
        timeout: Duration
    ) async
        -> HealthCheckStateMachine.Result
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .GET
        do {
            let response = try await self.http.execute(request, timeout: MasterClient.timeAmount(timeout))
            _ = try? await response.body.collect(upTo: 1 << 20)
            let code = Int(response.status.code)
            let healthy = statuses.map { $0.contains(code) } ?? (200..<400).contains(code)
            return healthy ? .healthy : .unhealthy("HTTP GET \(path) on port \(port) answered \(code)")
        } catch {
            return .unhealthy("HTTP GET \(path) on port \(port) failed: \(error)")
        }
    }

    /// Connects without blocking a thread: a non-blocking connect polled until it completes or times out.
    static func tcp(port: UInt16, timeout: Duration) async -> HealthCheckStateMachine.Result {
        let fd = socket(
            AF_INET,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0
        )
        guard fd >= 0 else { return .unhealthy("cannot create a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result == 0 { return .healthy }
        guard errno == EINPROGRESS else {
            return .unhealthy("connecting to 127.0.0.1:\(port) failed: \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&entry, 1, 0) > 0 {
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                return error == 0
                    ? .healthy
                    : .unhealthy("connecting to 127.0.0.1:\(port) failed: \(String(cString: strerror(error)))")
            }
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                return .unhealthy("the check was cancelled")
            }
        }
        return .unhealthy("connecting to 127.0.0.1:\(port) timed out after \(timeout)")
    }

    /// A check command's exit as a check result: exit 0 is healthy.
    static func result(of status: ContainerTermination.Status) -> HealthCheckStateMachine.Result {
        switch status {
        case .exited(code: 0): return .healthy
        case .exited(let code): return .unhealthy("the check command exited with status \(code)")
        case .signaled(let signal):
            return .unhealthy("the check command ended with signal \(SignalName.name(of: signal))")
        case .unknown(let reason): return .unhealthy(reason)
        }
    }

    /// Runs a shell command in its own process group; kills the group at the timeout.
    static func command(
        _ value: String,
        environment: [String: String],
        directory: String,
        timeout: Duration
    ) async
        -> HealthCheckStateMachine.Result
    {
        await Self.command(["/bin/sh", "-c", value], environment: environment, directory: directory, timeout: timeout)
    }

    /// Runs `commandLine` (argv, the executable first) in its own process group; kills the group at the timeout.
    static func command(
        _ commandLine: [String],
        environment: [String: String],
        directory: String,
        timeout: Duration
    ) async
        -> HealthCheckStateMachine.Result
    {
        let pid: pid_t
        do {
            pid = try PosixSpawn.spawn(
                PosixSpawn.Command(
                    executable: commandLine[0],
                    arguments: commandLine,
                    environment: environment,
                    workingDirectory: directory,
                    stdoutPath: "/dev/null",
                    stderrPath: "/dev/null",
                    searchPath: false
                )
            )
        } catch {
            return .unhealthy("cannot run the check command: \(error)")
        }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited == -1 && errno != EINTR {
                return .unhealthy("cannot wait for the check command: \(String(cString: strerror(errno)))")
            }
            if ContinuousClock.now >= deadline || Task.isCancelled {
                _ = kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                return .unhealthy("the check command timed out after \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        _ = kill(-pid, SIGKILL)
        switch PosixSpawn.decode(waitStatus: status) {
        case .exited(code: 0): return .healthy
        case .exited(let code): return .unhealthy("the check command exited with status \(code)")
        case .signaled(let signal):
            return .unhealthy("the check command ended with signal \(SignalName.name(of: signal))")
        case .unknown(let reason): return .unhealthy("the check command ended oddly: \(reason)")
        }
    }
}
