// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import Logging
import RegattaCore
import Testing

@testable import RegattaAgent

@Suite struct ProcessContainerRuntimeTests {
    private let logger = TestSupport.logger()

    /// Runs `body` with a runtime whose reaper loop runs alongside.
    private func withRuntime<T: Sendable>(
        configuration: ProcessContainerRuntime.Configuration = ProcessContainerRuntime.Configuration(),
        _ body: @Sendable (ProcessContainerRuntime, String) async throws -> T
    ) async throws -> T {
        try await TestSupport.withTemporaryDirectory { directory in
            let runtime = ProcessContainerRuntime(configuration: configuration, logger: self.logger)
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await runtime.run()
                    return nil
                }
                defer { group.cancelAll() }
                return try await body(runtime, directory)
            }
        }
    }

    private func request(_ id: String, _ command: CommandInfo, in directory: String) -> ContainerLaunchRequest {
        ContainerLaunchRequest(
            containerID: ContainerID("container-\(id)"),
            frameworkID: "framework-1",
            agentID: "agent-1",
            task: TestSupport.task(id, command: command),
            sandbox: "\(directory)/sandbox-\(id)",
            hostname: "agent.example",
            runDirectory: "\(directory)/run-\(id)"
        )
    }

    @Test func exitZeroFinishes() async throws {
        try await self.withRuntime { runtime, directory in
            // Given
            let request = self.request("ok", .shell("exit 0"), in: directory)
            // When
            _ = try await runtime.launch(request)
            let termination = try await runtime.wait(for: request.containerID)
            // Then
            #expect(termination == ContainerTermination(status: .exited(code: 0), killed: false))
            #expect(TerminationReport(termination).state == .finished)
        }
    }

    @Test func nonZeroExitFailsWithStatus() async throws {
        try await self.withRuntime { runtime, directory in
            // Given
            let request = self.request("three", .shell("exit 3"), in: directory)
            // When
            _ = try await runtime.launch(request)
            let termination = try await runtime.wait(for: request.containerID)
            // Then
            #expect(termination.status == .exited(code: 3))
            let report = TerminationReport(termination)
            #expect(report.state == .failed)
            #expect(report.message == "Command exited with status 3")
            #expect(report.reason == "REASON_COMMAND_EXECUTOR_FAILED")
        }
    }

    @Test func signalFailsWithSignalName() async throws {
        try await self.withRuntime { runtime, directory in
            // Given a process that kills itself
            let request = self.request("segv", .shell("kill -USR1 $$; sleep 5"), in: directory)
            // When
            _ = try await runtime.launch(request)
            let termination = try await runtime.wait(for: request.containerID)
            // Then
            #expect(termination.status == .signaled(signal: SIGUSR1))
            let report = TerminationReport(termination)
            #expect(report.state == .failed)
            #expect(report.message == "Command terminated with signal SIGUSR1")
        }
    }

    @Test func killTerminatesWholeProcessGroup() async throws {
        try await self.withRuntime { runtime, directory in
            // Given a shell with a background child and a foreground child
            let request = self.request("group", .shell("sleep 100 & sleep 100"), in: directory)
            let launched = try await runtime.launch(request)
            let pgid = try #require(launched.pid)
            #expect(getpgid(pgid) == pgid)
            try await Task.sleep(for: .milliseconds(200))
            #expect(TestSupport.liveProcesses(inGroup: pgid).count >= 2)
            // When
            let started = ContinuousClock.now
            try await runtime.kill(request.containerID, gracePeriod: .seconds(5))
            let termination = try await runtime.wait(for: request.containerID)
            // Then SIGTERM alone ended it, well within the grace period
            #expect(started.duration(to: .now) < .seconds(3))
            #expect(termination == ContainerTermination(status: .signaled(signal: SIGTERM), killed: true))
            #expect(TerminationReport(termination).state == .killed)
            #expect(await TestSupport.processGroupIsGone(pgid))
        }
    }

    @Test func killEscalatesToSIGKILLAfterGracePeriod() async throws {
        try await self.withRuntime { runtime, directory in
            // Given a group that ignores SIGTERM (the ignore disposition is inherited by both sleeps)
            let request = self.request("stubborn", .shell("trap '' TERM; sleep 100 & sleep 100"), in: directory)
            let launched = try await runtime.launch(request)
            let pgid = try #require(launched.pid)
            try await Task.sleep(for: .milliseconds(200))
            // When
            let started = ContinuousClock.now
            try await runtime.kill(request.containerID, gracePeriod: .milliseconds(600))
            let termination = try await runtime.wait(for: request.containerID)
            // Then it survived SIGTERM and was killed once the grace period ended
            let elapsed = started.duration(to: .now)
            #expect(elapsed >= .milliseconds(600))
            #expect(elapsed < .seconds(5))
            #expect(termination == ContainerTermination(status: .signaled(signal: SIGKILL), killed: true))
            #expect(TerminationReport(termination).state == .killed)
            #expect(await TestSupport.processGroupIsGone(pgid))
        }
    }

    @Test func exitKillsLeftoverProcessesInGroup() async throws {
        try await self.withRuntime { runtime, directory in
            // Given a command that leaves a background process behind
            let request = self.request("leftover", .shell("sleep 100 & exit 0"), in: directory)
            let launched = try await runtime.launch(request)
            let pgid = try #require(launched.pid)
            // When
            let termination = try await runtime.wait(for: request.containerID)
            // Then
            #expect(termination.status == .exited(code: 0))
            #expect(await TestSupport.processGroupIsGone(pgid))
        }
    }

    @Test func capturesOutputAndEnvironmentInSandbox() async throws {
        try await self.withRuntime { runtime, directory in
            // Given
            var request = self.request(
                "env",
                .shell(
                    "echo out; echo err >&2; pwd; echo \"$MESOS_TASK_ID|$MESOS_SANDBOX|$MESOS_AGENT_ID|$MESOS_FRAMEWORK_ID|$HOST|$GREETING|$PATH\"",
                    environment: ["GREETING": "hello"]
                ),
                in: directory
            )
            request.sandbox = directory + "/nested/sandbox"
            // When
            _ = try await runtime.launch(request)
            let termination = try await runtime.wait(for: request.containerID)
            // Then
            #expect(termination.status == .exited(code: 0))
            let stdout = try String(contentsOfFile: request.sandbox + "/stdout", encoding: .utf8)
            let stderr = try String(contentsOfFile: request.sandbox + "/stderr", encoding: .utf8)
            let lines = stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "out")
            #expect(lines.count == 3)
            let sandbox = URL(fileURLWithPath: request.sandbox).resolvingSymlinksInPath().path
            #expect(lines.dropFirst().first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } == sandbox)
            let values = lines.last?.split(separator: "|", omittingEmptySubsequences: false).map(String.init) ?? []
            #expect(
                Array(values.prefix(6)) == ["env", request.sandbox, "agent-1", "framework-1", "agent.example", "hello"]
            )
            #expect(values.last?.contains("/bin") == true)
            #expect(stderr == "err\n")
        }
    }

    @Test func runsNonShellCommandWithArguments() async throws {
        try await self.withRuntime { runtime, directory in
            // Given argv with argv[0], looked up in PATH
            let command = CommandInfo(shell: false, value: "printf", arguments: ["printf", "%s-%s", "a b", "c"])
            let request = self.request("argv", command, in: directory)
            // When
            _ = try await runtime.launch(request)
            let termination = try await runtime.wait(for: request.containerID)
            // Then arguments are passed verbatim, without a shell
            #expect(termination.status == .exited(code: 0))
            #expect(try String(contentsOfFile: request.sandbox + "/stdout", encoding: .utf8) == "a b-c")
        }
    }

    @Test func missingExecutableFailsWithTheShellsStatus() async throws {
        try await self.withRuntime { runtime, directory in
            // Given
            let command = CommandInfo(shell: false, value: "/nonexistent/regatta-no-such-binary")
            let request = self.request("missing", command, in: directory)
            // When the supervisor cannot exec it
            _ = try await runtime.launch(request)
            let termination = try await runtime.wait(for: request.containerID)
            // Then it fails as a command that exited 127, with the reason in the sandbox's stderr
            #expect(termination.status == .exited(code: 127))
            let stderr = try String(contentsOfFile: request.sandbox + "/stderr", encoding: .utf8)
            #expect(stderr.contains("/nonexistent/regatta-no-such-binary"))
        }
    }

    @Test func recordsTheExitStatusForARestartedAgent() async throws {
        try await self.withRuntime { runtime, directory in
            // Given a task that ends on its own
            let request = self.request("record", .shell("exit 7"), in: directory)
            let launched = try await runtime.launch(request)
            #expect(launched.startTime == ProcessTable.stat(try #require(launched.pid))?.startTime)
            _ = try await runtime.wait(for: request.containerID)
            // Then its supervisor wrote the code where a restarted agent looks
            #expect(TaskSupervisor.readExitStatus(directory + "/run-record/exit_status") == 7)
            #expect(
                try String(contentsOfFile: directory + "/run-record/supervisor.pid", encoding: .utf8)
                    == "\(launched.pid!)\n"
            )
        }
    }

    @Test func theSupervisorsCommandLineDoesNotShowTheCommand() async throws {
        try await self.withRuntime { runtime, directory in
            // Given a task with a distinctive command
            let request = self.request(
                "argv",
                .shell("echo \"$REGATTA_COMMAND_ARGC\" > leaked; sleep 100 # regatta-distinctive"),
                in: directory
            )
            let pid = try #require(try await runtime.launch(request).pid)
            try await Task.sleep(for: .milliseconds(300))
            // Then only the task's own shell shows it, and the task does not see the supervisor's variables
            #expect(ProcessTable.commandLine(pid)?.contains("regatta-distinctive") == false)
            #expect(ProcessTable.commandLine(pid)?.contains(directory + "/run-argv/supervisor.sh") == true)
            let shells = TestSupport.liveProcesses(inGroup: pid).filter {
                ProcessTable.commandLine($0)?.contains("regatta-distinctive") == true
            }
            #expect(shells.count == 1)
            #expect(try String(contentsOfFile: request.sandbox + "/leaked", encoding: .utf8) == "\n")
            try await runtime.kill(request.containerID, gracePeriod: .seconds(1))
            _ = try await runtime.wait(for: request.containerID)
        }
    }

    @Test func recoversProcessesOfAnEarlierRuntime() async throws {
        try await TestSupport.withTemporaryDirectory { directory in
            // Given a first runtime (a first agent) that launched two tasks and went away
            let first = ProcessContainerRuntime(logger: self.logger)
            let running = self.request("survivor", .shell("sleep 100"), in: directory)
            let ending = self.request("ender", .shell("sleep 0.3; exit 4"), in: directory)
            let runningPID = try #require(try await first.launch(running).pid)
            let endingLaunch = try await first.launch(ending)
            try await Task.sleep(for: .milliseconds(800))
            // When a new runtime recovers them by pid and start time (one with a stale start time: a recycled pid)
            let second = ProcessContainerRuntime(logger: self.logger)
            let checkpoints = [
                ContainerCheckpoint(
                    containerID: running.containerID,
                    type: .mesos,
                    pid: runningPID,
                    pidStartTime: ProcessTable.stat(runningPID)?.startTime,
                    runDirectory: running.runDirectory!,
                    killRequested: false
                ),
                ContainerCheckpoint(
                    containerID: ending.containerID,
                    type: .mesos,
                    pid: endingLaunch.pid,
                    pidStartTime: endingLaunch.startTime,
                    runDirectory: ending.runDirectory!,
                    killRequested: false
                ),
                ContainerCheckpoint(
                    containerID: "recycled",
                    type: .mesos,
                    pid: getpid(),
                    pidStartTime: 1,
                    runDirectory: directory + "/run-recycled",
                    killRequested: false
                ),
            ]
            let found = try await second.recover(checkpoints)
            #expect(found == [running.containerID, ending.containerID, "recycled"])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await second.run() }
                defer { group.cancelAll() }
                // Then the one that ended meanwhile reports its real exit code
                #expect(try await second.wait(for: ending.containerID).status == .exited(code: 4))
                // And the recycled pid is not mistaken for the task
                let recycled = try await second.wait(for: "recycled")
                guard case .unknown = recycled.status else {
                    Issue.record("a recycled pid was taken for the task: \(recycled)")
                    return
                }
                // And the survivor is still running, and is killed through the new runtime
                #expect(ProcessTable.isRunning(runningPID, startTime: checkpoints[0].pidStartTime))
                try await second.kill(running.containerID, gracePeriod: .seconds(2))
                let termination = try await second.wait(for: running.containerID)
                #expect(termination == ContainerTermination(status: .signaled(signal: SIGTERM), killed: true))
                #expect(await TestSupport.processGroupIsGone(runningPID))
            }
            // The first runtime's children are zombies until this process reaps them.
            var status: Int32 = 0
            _ = waitpid(runningPID, &status, WNOHANG)
            _ = waitpid(endingLaunch.pid!, &status, WNOHANG)
        }
    }

    @Test(.enabled(if: ProcessContainerRuntimeTests.cgroupsAvailable))
    func memoryHogInAControlGroupFailsWithTheMemoryLimitation() async throws {
        let isolator = try #require(
            try CgroupIsolator.detect(isolation: ["cgroups/cpu", "cgroups/mem"], root: "regatta-test")
        )
        var configuration = ProcessContainerRuntime.Configuration()
        configuration.isolator = isolator
        try await self.withRuntime(configuration: configuration) { runtime, directory in
            // Given a task allowed 48 MB that allocates 300 MB
            var request = self.request(
                "hog",
                .shell("python3 -c 'import time; a = bytearray(300 * 1024 * 1024); time.sleep(10)'"),
                in: directory
            )
            request.task.resources = try Resources.parse("cpus:0.5;mem:48")
            // When
            _ = try await runtime.launch(request)
            let termination = try await runtime.wait(for: request.containerID)
            // Then
            let report = TerminationReport(termination)
            #expect(report.state == .failed)
            #expect(report.reason == "REASON_CONTAINER_LIMITATION_MEMORY")
            #expect(report.message.hasPrefix("Memory limit exceeded: Requested: 48MB"))
            // And its control groups are gone
            #expect(isolator.processes(request.containerID).isEmpty)
            for hierarchy in isolator.hierarchies {
                #expect(!FileManager.default.fileExists(atPath: isolator.directory(request.containerID, in: hierarchy)))
            }
        }
    }

    /// Whether this machine lets the tests create cpu and memory control groups (root, controllers mounted).
    static var cgroupsAvailable: Bool {
        getuid() == 0 && (try? CgroupIsolator.detect(isolation: ["cgroups/cpu", "cgroups/mem"], root: "r")) != nil
    }

    @Test func childDoesNotInheritAgentDescriptors() async throws {
        try await self.withRuntime { runtime, directory in
            // Given an fd in the agent that is not close-on-exec
            let opened = open(directory + "/held-open", O_WRONLY | O_CREAT, 0o644)
            #expect(opened > 2)
            // A high number cannot collide with the descriptor `ls` opens on the directory.
            let fd = fcntl(opened, F_DUPFD, 200)
            close(opened)
            #expect(fd >= 200)
            defer { close(fd) }
            let request = self.request("fds", .shell("ls /proc/self/fd"), in: directory)
            // When
            _ = try await runtime.launch(request)
            _ = try await runtime.wait(for: request.containerID)
            // Then only stdin/stdout/stderr (and the fd `ls` opens on the directory) are open
            let fds = try String(contentsOfFile: request.sandbox + "/stdout", encoding: .utf8)
                .split(separator: "\n").compactMap { Int32($0) }
            #expect(!fds.contains(fd))
            #expect(fds.filter { $0 > 2 }.count <= 1)
        }
    }

    @Test func waitIsCancellable() async throws {
        try await self.withRuntime { runtime, directory in
            // Given
            let request = self.request("cancel", .shell("sleep 100"), in: directory)
            let launched = try await runtime.launch(request)
            // When a waiter is cancelled
            let waiter = Task { try await runtime.wait(for: request.containerID) }
            try await Task.sleep(for: .milliseconds(100))
            waiter.cancel()
            // Then it ends with CancellationError and the container can still be killed and waited for
            await #expect(throws: CancellationError.self) { try await waiter.value }
            try await runtime.kill(request.containerID, gracePeriod: .zero)
            let termination = try await runtime.wait(for: request.containerID)
            #expect(termination == ContainerTermination(status: .signaled(signal: SIGKILL), killed: true))
            #expect(await TestSupport.processGroupIsGone(try #require(launched.pid)))
        }
    }

    @Test func killOfUnknownContainerThrows() async throws {
        try await self.withRuntime { runtime, _ in
            let error = await #expect(throws: AgentError.self) {
                try await runtime.kill("no-such-container", gracePeriod: .seconds(1))
            }
            #expect(error?.code == .containerNotFound)
        }
    }
}
