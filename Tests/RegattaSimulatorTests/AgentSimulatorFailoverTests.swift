// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaBench
import RegattaCore
import RegattaMaster
import RegattaSimulator
import RegattaZooKeeper
import Testing

/// Simulated agents following a master failover through ZooKeeper (`REGATTA_TEST_ZK=127.0.0.1:PORT`, set by
/// scripts/test.sh; skipped without it). The two masters are real; the test writes their election nodes itself, as
/// each master with `--zk` would.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AgentSimulatorFailoverTests {
    private static let zooKeeper = ProcessInfo.processInfo.environment["REGATTA_TEST_ZK"].flatMap {
        $0.isEmpty ? nil : $0
    }
    private let logger = Logger(label: "test.sim.failover")

    /// MasterInfo JSON as a master writes into its `json.info_` node.
    private static func masterInfo(id: String, port: Int) -> [UInt8] {
        Array(
            #"{"id":"\#(id)","hostname":"127.0.0.1","port":\#(port),"address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":\#(port)}}"#
                .utf8
        )
    }

    @Test(.enabled(if: Self.zooKeeper != nil, "needs REGATTA_TEST_ZK"))
    func followsAMasterFailoverThroughZooKeeperWithTheSameIdsAndTasks() async throws {
        let servers = try #require(Self.zooKeeper)
        let zooKeeper = try await ZooKeeperClient.connect(
            connectionString: servers,
            sessionTimeout: .seconds(10),
            connectTimeout: .seconds(20),
            logger: self.logger
        )
        let root = "/regatta-sim-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let path = root + "/mesos"
        try await zooKeeper.create(root)
        let first = try await TestMaster.start()
        let second = try await TestMaster.start()

        // Given 20 agents that follow the leader under the election path, where the first master leads
        let firstCandidacy = try await LeaderContender.contend(
            client: zooKeeper,
            path: path,
            data: Self.masterInfo(id: "m1", port: first.port),
            logger: self.logger
        )
        var configuration = AgentSimulator.Configuration(master: "zk://\(servers)\(path)")
        configuration.agents = 20
        configuration.zkSessionTimeout = .seconds(4)
        configuration.subscribeBackoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(500))
        configuration.statusUpdateBackoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(500))
        let simulator = try AgentSimulator(
            configuration: configuration,
            masterDetector: ZooKeeperMasterDetector.factory(logger: self.logger),
            logger: self.logger
        )
        let running = BackgroundService.start { try await simulator.run() }
        try await simulator.waitUntilRegistered(withMaster: "127.0.0.1:\(first.port)", timeout: .seconds(20))
        #expect(simulator.detectedLeader?.port == first.port)

        // And 20 tasks running under it
        let framework = try await InProcessFramework.subscribe(to: first.master)
        let events = BackgroundService.start { await framework.run() }
        await framework.enqueue(count: 20)
        try await framework.waitUntil(timeout: .seconds(20)) { $0.running == 20 }
        let agentIDs = Set(simulator.agentIDs().compactMap { $0 })
        let taskIDs = Set(await framework.taskTimes.keys)
        #expect(agentIDs.count == 20)
        await events.stop()

        // When the second master is elected and the first one dies
        let secondCandidacy = try await LeaderContender.contend(
            client: zooKeeper,
            path: path,
            data: Self.masterInfo(id: "m2", port: second.port),
            logger: self.logger
        )
        let failedAt = ContinuousClock.now
        try await firstCandidacy.withdraw()
        await first.stop()

        // Then every agent re-registers with the new leader under its id and reports its running tasks
        let lastRegistered = try await simulator.waitUntilRegistered(
            withMaster: "127.0.0.1:\(second.port)",
            timeout: .seconds(20)
        )
        #expect(lastRegistered > failedAt)
        let change = try #require(simulator.lastLeaderChange)
        #expect(change.leader?.port == second.port)
        #expect(change.at > failedAt && change.at <= lastRegistered)
        let state = await second.master.snapshot
        #expect(Set(state.agents.keys) == agentIDs)
        #expect(Set(state.tasks.keys.map(\.taskID)) == taskIDs)
        #expect(state.tasks.values.allSatisfy { $0.state == .running })
        let statistics = simulator.statistics
        #expect(statistics.leader == "127.0.0.1:\(second.port)")
        #expect(statistics.leaderChanges >= 2)
        #expect(statistics.registeredAgentsByMaster == ["127.0.0.1:\(second.port)": 20])
        #expect(statistics.reregistrations >= 20)
        #expect(simulator.taskStates().count == 20)
        #expect(simulator.taskStates().values.allSatisfy { $0 == .running })

        await running.stop()
        try await secondCandidacy.withdraw()
        await second.stop()
        try? await zooKeeper.deleteRecursively(root)
        await zooKeeper.close()
    }

    @Test(.enabled(if: Self.zooKeeper != nil, "needs REGATTA_TEST_ZK"))
    func waitsForALeaderBeforeRegistering() async throws {
        let servers = try #require(Self.zooKeeper)
        let zooKeeper = try await ZooKeeperClient.connect(
            connectionString: servers,
            sessionTimeout: .seconds(10),
            connectTimeout: .seconds(20),
            logger: self.logger
        )
        let root = "/regatta-sim-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let path = root + "/mesos"
        try await zooKeeper.create(root)
        let master = try await TestMaster.start()

        // Given agents that follow an election path where no master contends yet
        var configuration = AgentSimulator.Configuration(master: "zk://\(servers)\(path)")
        configuration.agents = 5
        let simulator = try AgentSimulator(
            configuration: configuration,
            masterDetector: ZooKeeperMasterDetector.factory(logger: self.logger),
            logger: self.logger
        )
        let running = BackgroundService.start { try await simulator.run() }
        try await Task.sleep(for: .milliseconds(500))
        #expect(simulator.statistics.registrations == 0)
        #expect(simulator.statistics.subscribeFailures == 0)
        #expect(await master.master.snapshot.agents.isEmpty)

        // When the master is elected, they register with it
        let candidacy = try await LeaderContender.contend(
            client: zooKeeper,
            path: path,
            data: Self.masterInfo(id: "m1", port: master.port),
            logger: self.logger
        )
        try await simulator.waitUntilRegistered(withMaster: "127.0.0.1:\(master.port)", timeout: .seconds(20))
        #expect(await master.master.snapshot.agents.count == 5)

        await running.stop()
        try await candidacy.withdraw()
        await master.stop()
        try? await zooKeeper.deleteRecursively(root)
        await zooKeeper.close()
    }
}
