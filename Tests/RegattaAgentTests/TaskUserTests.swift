// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaAgentTestKit
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaAgent

/// Accounts of a pretend host, with the agent running as `agentUID`.
struct FakeUserDatabase: UserDatabase {
    var users: [String: TaskUser] = [
        "root": TaskUser(name: "root", uid: 0, gid: 0, home: "/root"),
        "alice": TaskUser(name: "alice", uid: 1000, gid: 1000, home: "/home/alice"),
        "bob": TaskUser(name: "bob", uid: 1001, gid: 1001, home: "/home/bob"),
    ]
    var agentUID: UInt32 = 0

    func user(named name: String) -> TaskUser? { self.users[name] }

    func name(of uid: UInt32) -> String {
        self.users.values.first { $0.uid == uid }?.name ?? "uid \(uid)"
    }
}

/// Which user a task runs as (`CommandInfo.user`, `FrameworkInfo.user`, `--switch_user`), decided by the agent's core
/// on a fake account database, a ``ManualClock`` and a ``FakeContainerRuntime``.
@Suite(.timeLimit(.minutes(1))) struct TaskUserTests {
    private let framework = FrameworkID("fw")

    private func task(user: String?, docker: Bool = false, dockerUser: String? = nil) -> TaskInfo {
        var command = CommandInfo.shell("id -u")
        command.user = user
        var container: ContainerInfo?
        if docker {
            container = ContainerInfo(type: .docker, docker: DockerInfo(image: "busybox"))
            if let dockerUser {
                container?.docker?.parameters = [DockerInfo.Parameter(key: "user", value: dockerUser)]
            }
        }
        return TestSupport.task("t1", command: command, container: container)
    }

    private func decide(
        _ task: TaskInfo,
        frameworkUser: String? = "root",
        switchUser: Bool = true,
        users: FakeUserDatabase = FakeUserDatabase()
    ) -> TaskUserDecision {
        TaskUserDecision.decide(
            task,
            frameworkInfo: frameworkUser.map { FrameworkInfo(user: $0, name: "f", id: self.framework) },
            switchUser: switchUser,
            users: users,
            hostname: "h1"
        )
    }

    @Test func theCommandsUserWinsOverTheFrameworks() {
        let alice = FakeUserDatabase().users["alice"]!
        #expect(self.decide(self.task(user: "alice"), frameworkUser: "bob") == .switchTo(alice))
        #expect(self.decide(self.task(user: nil), frameworkUser: "alice") == .switchTo(alice))
        #expect(self.decide(self.task(user: ""), frameworkUser: "alice") == .switchTo(alice))
    }

    @Test func noUserOrTheAgentsOwnRunsAsTheAgent() {
        #expect(self.decide(self.task(user: nil), frameworkUser: nil) == .agentUser)
        #expect(self.decide(self.task(user: nil), frameworkUser: "") == .agentUser)
        #expect(self.decide(self.task(user: "root")) == .agentUser)
        var users = FakeUserDatabase()
        users.agentUID = 1000
        #expect(self.decide(self.task(user: "alice"), users: users) == .agentUser)
    }

    @Test func anUnknownUserIsRefusedNamingItAndTheAgent() {
        guard case .refuse(let message) = self.decide(self.task(user: "ghost")) else {
            Issue.record("an unknown user must be refused")
            return
        }
        #expect(message.hasPrefix("User 'ghost' does not exist on agent h1"))
        #expect(message.contains("--switch_user=false"))
    }

    @Test func aNonRootAgentCannotRunTasksAsAnotherUserOrRoot() {
        var users = FakeUserDatabase()
        users.agentUID = 1000
        for name in ["root", "bob"] {
            guard case .refuse(let message) = self.decide(self.task(user: name), users: users) else {
                Issue.record("'\(name)' must be refused")
                continue
            }
            #expect(message.contains("runs as 'alice', not root"))
            #expect(message.contains("as '\(name)'"))
        }
    }

    @Test func switchUserFalseRunsEveryTaskAsTheAgent() {
        #expect(self.decide(self.task(user: "alice"), switchUser: false) == .agentUser)
        #expect(self.decide(self.task(user: "ghost"), switchUser: false) == .agentUser)
        #expect(self.decide(self.task(user: "alice", docker: true), switchUser: false) == .agentUser)
    }

    @Test func dockerTasksRunAsTheCommandsUserInTheImage() {
        // The user need not exist on the host, and the framework's user is not forced on the image.
        #expect(self.decide(self.task(user: "ghost", docker: true)) == .container("ghost"))
        #expect(self.decide(self.task(user: nil, docker: true), frameworkUser: "alice") == .agentUser)
        #expect(self.decide(self.task(user: "1000", docker: true, dockerUser: "1000")) == .container("1000"))
        guard case .refuse(let message) = self.decide(self.task(user: "alice", docker: true, dockerUser: "bob")) else {
            Issue.record("conflicting users must be refused")
            return
        }
        #expect(message.contains("user 'alice' and the Docker parameter user='bob'"))
    }

    // MARK: - The core

    private func withCore(
        users: FakeUserDatabase = FakeUserDatabase(),
        switchUser: Bool = true,
        _ body: (AgentCore, FakeContainerRuntime<ManualClock>, AgentRunner) async throws -> Void
    ) async throws {
        let clock = ManualClock()
        try await TestSupport.withTemporaryDirectory { workDir in
            var environment = TestSupport.environment(clock: clock)
            environment.users = users
            let (_, jobs) = AsyncStream<AgentCore.Job>.makeStream()
            let core = AgentCore(
                agentInfo: AgentInfo(hostname: "h1", port: 5051, resources: Resources(), id: "agent-1"),
                layout: SandboxLayout(workDir: workDir),
                defaultKillGracePeriod: .seconds(3),
                supportedContainerTypes: [.mesos, .docker],
                updateTiming: StatusUpdateManager.Configuration(),
                baseEnvironment: [:],
                environment: environment,
                jobs: jobs,
                switchUser: switchUser,
                logger: TestSupport.logger()
            )
            _ = await core.registered(
                AgentMessage.Registered(agentId: "agent-1", masterInfo: nil, pingIntervalSeconds: nil)
            )
            let runtime = FakeContainerRuntime(clock: clock)
            runtime.setDefaultBehaviour(.init(runFor: .seconds(1)))
            let runner = AgentRunner(
                configuration: AgentConfiguration(master: "127.0.0.1:5050"),
                core: core,
                runtime: runtime,
                master: MasterClient(
                    http: .shared,
                    source: .fixed(endpoint: "http://127.0.0.1:5050/api/v1/agent"),
                    requestTimeout: .seconds(1),
                    zkSessionTimeout: .seconds(10),
                    logger: TestSupport.logger()
                ),
                metaStore: AgentMetaStore(path: workDir + "/meta/agent.json"),
                healthProbe: SystemHealthCheckProbe(http: .shared),
                capabilities: [],
                version: "test",
                environment: environment,
                logger: TestSupport.logger()
            )
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await runtime.run() }
                try await body(core, runtime, runner)
                group.cancelAll()
            }
        }
    }

    private func launch(_ core: AgentCore, _ task: TaskInfo, frameworkUser: String = "root") async -> TaskKey {
        await core.launch(
            AgentMessage.Launch(
                frameworkId: self.framework,
                frameworkInfo: FrameworkInfo(user: frameworkUser, name: "f", id: self.framework),
                task: task
            )
        )
        return TaskKey(frameworkID: self.framework, taskID: task.taskId)
    }

    @Test func anUnknownUserFailsTheTaskBeforeAnythingRuns() async throws {
        try await self.withCore { core, runtime, _ in
            // When a task asks for a user this host does not have
            let key = await self.launch(core, self.task(user: "ghost"))
            // Then it fails at once, naming the user and the agent, and no container starts
            let task = try #require(await core.snapshot().completedTasks.last { $0.key == key })
            #expect(task.state == .failed)
            let last = try #require(task.statuses.last)
            #expect(last.state == .failed)
            #expect(runtime.launched.isEmpty)
            let update = try #require(await core.pendingUpdates(for: key).last)
            #expect(update.status.message?.hasPrefix("User 'ghost' does not exist on agent h1") == true)
            #expect(update.status.reason == "REASON_CONTAINER_LAUNCH_FAILED")
        }
    }

    /// The request the core hands the runtime for a launched task.
    private func launchRequest(_ core: AgentCore, _ key: TaskKey) async throws -> ContainerLaunchRequest {
        guard case .launch(let request) = try #require(await core.beginLaunch(key)) else {
            throw AgentError(.launchFailed, "the task was not launched")
        }
        return request
    }

    @Test func theRuntimeIsAskedToRunTheTaskAsItsUser() async throws {
        try await self.withCore { core, _, _ in
            // When the framework runs as bob and the task asks for alice
            let key = await self.launch(core, self.task(user: "alice"), frameworkUser: "bob")
            // Then the container is launched as alice
            let request = try await self.launchRequest(core, key)
            #expect(request.user == FakeUserDatabase().users["alice"])
            #expect(request.containerUser == nil)
            #expect(ProcessContainerRuntime.environment(for: request, base: ["HOME": "/root"])["HOME"] == "/home/alice")
        }
    }

    @Test func switchUserFalseLaunchesAsTheAgent() async throws {
        try await self.withCore(switchUser: false) { core, _, _ in
            let key = await self.launch(core, self.task(user: "ghost"))
            let request = try await self.launchRequest(core, key)
            #expect(request.user == nil)
            #expect(request.containerUser == nil)
        }
    }

    @Test func dockerTasksGetTheirUserAsDockersUser() async throws {
        try await self.withCore { core, _, _ in
            let key = await self.launch(core, self.task(user: "nobody-in-image", docker: true))
            let request = try await self.launchRequest(core, key)
            #expect(request.containerUser == "nobody-in-image")
            #expect(request.user == nil)
            let spec = try DockerContainerRuntime.containerSpec(
                for: request,
                configuration: DockerContainerRuntime.Configuration()
            )
            #expect(spec.user == "nobody-in-image")
        }
    }

    // MARK: - The process runtime

    @Test func theCommandRunsThroughTheLauncherWithTheUsersEnvironment() async throws {
        try await TestSupport.withTemporaryDirectory { runDirectory in
            try self.checkLauncherCommand(runDirectory: runDirectory)
        }
    }

    private func checkLauncherCommand(runDirectory: String) throws {
        let alice = FakeUserDatabase().users["alice"]!
        var request = ContainerLaunchRequest(
            containerID: "c-1",
            frameworkID: self.framework,
            agentID: "agent-1",
            task: self.task(user: "alice"),
            sandbox: "/sandbox",
            hostname: "h1",
            runDirectory: runDirectory,
            user: alice
        )
        // (a task that names a library for the dynamic loader, which no root process may load)
        request.task.command?.environment = Environment(["LD_PRELOAD": "/tmp/evil.so", "GREETING": "hi"])
        let command = try ProcessContainerRuntime.command(
            for: request,
            baseEnvironment: ["HOME": "/root", "PATH": "/bin"],
            runDirectory: runDirectory,
            cgroupProcsFiles: [],
            launcher: "/usr/bin/regatta"
        )
        // The supervisor runs `regatta __regatta_task_launcher alice 1000 1000 <error file> -- /bin/sh -c 'id -u'`
        let argc = Int(command.environment["REGATTA_COMMAND_ARGC"] ?? "") ?? 0
        let argv = (0..<argc).map { command.environment["REGATTA_COMMAND_ARG_\($0)"] ?? "" }
        #expect(
            argv == [
                "/usr/bin/regatta", TaskLauncher.subcommand, "alice", "1000", "1000", runDirectory + "/launcher_error",
                "--",
                "/bin/sh", "-c", "id -u",
            ]
        )
        // The root supervisor and launcher keep the agent's own environment; the task's travels under prefixed names
        // that the loader and the shell ignore, restored by the launcher after it switched user
        #expect(command.environment["HOME"] == "/root")
        #expect(command.environment["PATH"] == "/bin")
        #expect(command.environment["LD_PRELOAD"] == nil)
        #expect(command.environment["USER"] == nil)
        #expect(command.environment["REGATTA_TASK_ENV_LD_PRELOAD"] == "/tmp/evil.so")
        #expect(command.environment["REGATTA_TASK_ENV_GREETING"] == "hi")
        #expect(command.environment["REGATTA_TASK_ENV_USER"] == "alice")
        #expect(command.environment["REGATTA_TASK_ENV_HOME"] == "/home/alice")
        #expect(command.environment["REGATTA_TASK_ENV_PATH"] == "/bin")
        // Without a launcher the launch fails, saying how to fix it
        let error = #expect(throws: AgentError.self) {
            try ProcessContainerRuntime.command(
                for: request,
                baseEnvironment: [:],
                runDirectory: runDirectory,
                cgroupProcsFiles: []
            )
        }
        #expect(error?.message.contains("--switch_user=false") == true)
    }
}
