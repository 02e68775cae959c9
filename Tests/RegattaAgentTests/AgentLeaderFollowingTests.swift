// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import RegattaCore
import RegattaZooKeeper
import Synchronization
import Testing

@testable import RegattaAgent

/// A real ``AgentService`` following the leading master: through a non-leader's `307`, and through ZooKeeper
/// (`REGATTA_TEST_ZK=127.0.0.1:PORT`, set by scripts/test.sh; those tests are skipped without it) between two
/// ``FakeMaster``s whose election nodes the test writes itself.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AgentLeaderFollowingTests {
    private static let zooKeeper = ProcessInfo.processInfo.environment["REGATTA_TEST_ZK"].flatMap {
        $0.isEmpty ? nil : $0
    }
    private let logger = TestSupport.logger()
    private let framework = FrameworkID("framework-e2e")

    private func configuration(master: String, workDir: String) throws -> AgentConfiguration {
        var configuration = AgentConfiguration(master: master)
        configuration.port = 0
        configuration.hostname = "agent-test.example"
        configuration.workDir = workDir
        configuration.resources = try Resources.parse("cpus:2;mem:1024;disk:1000;ports:[31000-31005]")
        configuration.killTasksOnShutdown = true
        configuration.subscribeBackoff = Backoff(initial: .milliseconds(200), maximum: .seconds(1))
        configuration.zkSessionTimeout = .seconds(4)
        return configuration
    }

    private func launch(_ id: String) -> AgentMessage {
        .launch(
            AgentMessage.Launch(
                frameworkId: self.framework,
                frameworkInfo: FrameworkInfo(user: "root", name: "e2e", id: self.framework),
                task: TestSupport.task(id, command: .shell("sleep 100"))
            )
        )
    }

    /// MasterInfo JSON as a master writes into its `json.info_` node.
    private static func masterInfo(id: String, port: Int) -> [UInt8] {
        Array(
            #"{"id":"\#(id)","hostname":"127.0.0.1","port":\#(port),"address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":\#(port)}}"#
                .utf8
        )
    }

    /// With the agent's own client (which follows redirects by itself) and with one that does not (the agent then
    /// follows the `307` itself).
    @Test(arguments: [true, false])
    func followsANonLeadersRedirectAndTalksToTheLeaderDirectly(clientFollowsRedirects: Bool) async throws {
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.redirectConfiguration = .disallow
        let http: HTTPClient? =
            clientFollowsRedirects
            ? nil : HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        do {
            try await self.followRedirect(http: http)
        } catch {
            try? await http?.shutdown()
            throw error
        }
        try await http?.shutdown()
    }

    private func followRedirect(http: HTTPClient?) async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let leader = FakeMaster(logger: self.logger)
            let follower = RedirectingMaster(logger: self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await leader.run() }
                group.addTask { try await follower.run(redirectingTo: try await leader.waitForPort()) }
                defer { group.cancelAll() }
                // Given an agent pointed at a master that does not lead
                let configuration = try self.configuration(
                    master: "127.0.0.1:\(try await follower.waitForPort())",
                    workDir: workDir
                )
                let agent = AgentService(
                    configuration: configuration,
                    logger: self.logger,
                    httpClient: http,
                    masterDetector: ZooKeeperMasterDetector.factory(logger: self.logger)
                )
                await withThrowingTaskGroup(of: Void.self) { agentGroup in
                    agentGroup.addTask { try await agent.run() }
                    defer { agentGroup.cancelAll() }
                    // Then it registers with the leader the 307 names
                    #expect(await TestSupport.eventually { await agent.agentID == leader.agentID })
                    // And its status updates and pongs go to the leader, not through the follower
                    leader.send(self.launch("redirected"))
                    #expect(await TestSupport.eventually { leader.acceptedStates(of: "redirected").contains(.running) })
                    leader.send(.ping)
                    #expect(await TestSupport.eventually { leader.pongs == 1 })
                    #expect(follower.calls == [.subscribe])
                }
            }
        }
    }

    @Test(.enabled(if: Self.zooKeeper != nil, "needs REGATTA_TEST_ZK"))
    func followsTheLeaderThatZooKeeperNamesAndIgnoresMastersWhileNoneIsKnown() async throws {
        let servers = try #require(Self.zooKeeper)
        let zooKeeper = try await ZooKeeperClient.connect(
            connectionString: servers,
            sessionTimeout: .seconds(10),
            connectTimeout: .seconds(20),
            logger: self.logger
        )
        let root = "/regatta-agent-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let path = root + "/mesos"
        try await zooKeeper.create(root)
        try await TestSupport.withTemporaryDirectory { workDir in
            let first = FakeMaster(logger: self.logger)
            let second = FakeMaster(logger: self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await first.run() }
                group.addTask { try await second.run() }
                defer { group.cancelAll() }
                let firstPort = try await first.waitForPort()
                let secondPort = try await second.waitForPort()
                // Given the first master leads, and an agent that follows the leader under the election path
                let firstCandidacy = try await LeaderContender.contend(
                    client: zooKeeper,
                    path: path,
                    data: Self.masterInfo(id: "m1", port: firstPort),
                    logger: self.logger
                )
                let configuration = try self.configuration(master: "zk://\(servers)\(path)", workDir: workDir)
                let agent = AgentService(
                    configuration: configuration,
                    logger: self.logger,
                    masterDetector: ZooKeeperMasterDetector.factory(logger: self.logger)
                )
                try await withThrowingTaskGroup(of: Void.self) { agentGroup in
                    agentGroup.addTask { try await agent.run() }
                    defer { agentGroup.cancelAll() }
                    #expect(await TestSupport.eventually { await agent.agentID == first.agentID })
                    first.send(self.launch("survivor"))
                    #expect(await TestSupport.eventually { first.acceptedStates(of: "survivor").contains(.running) })

                    // When the second master is elected (the first withdraws)
                    let secondCandidacy = try await LeaderContender.contend(
                        client: zooKeeper,
                        path: path,
                        data: Self.masterInfo(id: "m2", port: secondPort),
                        logger: self.logger
                    )
                    try await firstCandidacy.withdraw()

                    // Then the agent re-registers with it under its id, reporting the task it still runs
                    #expect(await TestSupport.eventually { second.subscribes.count == 1 })
                    let reregistration = try #require(second.subscribes.first)
                    #expect(reregistration.subscribe?.agentInfo.id == first.agentID)
                    #expect(reregistration.subscribe?.tasks.map(\.task.taskId) == ["survivor"])
                    #expect(reregistration.subscribe?.tasks.first?.state == .running)
                    #expect(await agent.runningTaskIDs() == ["survivor"])
                    // And takes orders from the new leader only
                    second.send(
                        .kill(AgentMessage.Kill(frameworkId: self.framework, taskId: "survivor", killPolicy: nil))
                    )
                    #expect(await TestSupport.eventually { second.acceptedStates(of: "survivor").contains(.killed) })
                    #expect(!first.acceptedStates(of: "survivor").contains(.killed))

                    // When no master leads, the agent subscribes to none
                    try await secondCandidacy.withdraw()
                    try await Task.sleep(for: .seconds(1))
                    #expect(first.subscribes.count == 1)
                    #expect(second.subscribes.count == 1)
                    // Until one is elected again
                    let again = try await LeaderContender.contend(
                        client: zooKeeper,
                        path: path,
                        data: Self.masterInfo(id: "m1", port: firstPort),
                        logger: self.logger
                    )
                    #expect(await TestSupport.eventually { first.subscribes.count == 2 })
                    #expect(first.subscribes.last?.subscribe?.agentInfo.id == first.agentID)
                    try await again.withdraw()
                }
            }
        }
        try? await zooKeeper.deleteRecursively(root)
        await zooKeeper.close()
    }

    @Test(.enabled(if: Self.zooKeeper != nil, "needs REGATTA_TEST_ZK"))
    func resendsUnacknowledgedUpdatesToTheNewLeader() async throws {
        let servers = try #require(Self.zooKeeper)
        let zooKeeper = try await ZooKeeperClient.connect(
            connectionString: servers,
            sessionTimeout: .seconds(10),
            connectTimeout: .seconds(20),
            logger: self.logger
        )
        let root = "/regatta-agent-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let path = root + "/mesos"
        try await zooKeeper.create(root)
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a leader whose framework never acknowledges, so the agent holds the task's next updates
            let first = FakeMaster(autoAcknowledge: false, logger: self.logger)
            let second = FakeMaster(logger: self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await first.run() }
                group.addTask { try await second.run() }
                defer { group.cancelAll() }
                let firstPort = try await first.waitForPort()
                let secondPort = try await second.waitForPort()
                let firstCandidacy = try await LeaderContender.contend(
                    client: zooKeeper,
                    path: path,
                    data: Self.masterInfo(id: "m1", port: firstPort),
                    logger: self.logger
                )
                let configuration = try self.configuration(master: "zk://\(servers)\(path)", workDir: workDir)
                let agent = AgentService(
                    configuration: configuration,
                    logger: self.logger,
                    masterDetector: ZooKeeperMasterDetector.factory(logger: self.logger)
                )
                try await withThrowingTaskGroup(of: Void.self) { agentGroup in
                    agentGroup.addTask { try await agent.run() }
                    defer { agentGroup.cancelAll() }
                    #expect(await TestSupport.eventually { await agent.agentID == first.agentID })
                    first.send(self.launch("pending"))
                    #expect(await TestSupport.eventually { !first.acceptedStates(of: "pending").isEmpty })
                    let held = try #require(first.acceptedStatuses.first { $0.taskId == "pending" })

                    // When the second master is elected
                    let secondCandidacy = try await LeaderContender.contend(
                        client: zooKeeper,
                        path: path,
                        data: Self.masterInfo(id: "m2", port: secondPort),
                        logger: self.logger
                    )
                    try await firstCandidacy.withdraw()

                    // Then the agent re-registers with the task in the state the old leader took, resends the update
                    // nobody acknowledged (same uuid), and the updates it held follow once the new leader acknowledges
                    #expect(await TestSupport.eventually { second.acceptedStates(of: "pending").contains(.running) })
                    #expect(second.subscribes.first?.subscribe?.tasks.first?.state == held.state)
                    let resent = second.acceptedStatuses.first { $0.taskId == "pending" }
                    #expect(resent?.uuid == held.uuid)
                    #expect(resent?.state == held.state)
                    try await secondCandidacy.withdraw()
                }
            }
        }
        try? await zooKeeper.deleteRecursively(root)
        await zooKeeper.close()
    }
}

/// A master that does not lead: answers every agent call with `307` to the leader, as Mesos does
/// (`Location: //host:port/api/v1/agent`), and records what it was asked.
private final class RedirectingMaster: Sendable {
    private let state = Mutex<(port: Int?, calls: [AgentCall.CallType])>((nil, []))
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    var calls: [AgentCall.CallType] { self.state.withLock { $0.calls } }

    func waitForPort() async throws -> Int {
        for _ in 0..<400 {
            if let port = self.state.withLock({ $0.port }) { return port }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw CancellationError()
    }

    func run(redirectingTo leaderPort: Int) async throws {
        let router = Router()
        router.post("/api/v1/agent") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            if let call = try? MesosJSON.decode(AgentCall.self, from: Data(body.readableBytesView)) {
                self.state.withLock { $0.calls.append(call.type) }
            }
            return Response(
                status: .temporaryRedirect,
                headers: [.location: "//127.0.0.1:\(leaderPort)/api/v1/agent"]
            )
        }
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                self.state.withLock { $0.port = channel.localAddress?.port }
            },
            logger: self.logger
        )
        try await app.run()
    }
}
