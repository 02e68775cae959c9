// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaTestKit
import RegattaZooKeeper
import Testing

@testable import RegattaMaster

/// The agent registry against the test script's ZooKeeper (`REGATTA_TEST_ZK`).
@Suite struct AgentRegistryTests {
    static let zooKeeper = ProcessInfo.processInfo.environment["REGATTA_TEST_ZK"]
    let logger = Logger(label: "test.registry")

    static func entry(
        _ index: Int,
        _ state: AgentRegistryEntry.State = .admitted
    )
        -> AgentRegistryEntry
    {
        AgentRegistryEntry(
            agentInfo: Fixture.agentSubscribe(hostname: "agent-\(index)", id: AgentID("m-S\(index)"))
                .agentInfo,
            state: state,
            changedAt: Double(index)
        )
    }

    private func withRegistry(
        _ body: (AgentRegistry, ZooKeeperClient, String) async throws -> Void
    )
        async throws
    {
        let servers = try #require(Self.zooKeeper)
        let client = try await ZooKeeperClient.connect(connectionString: servers, logger: self.logger)
        let path = "/test-\(UUID().uuidString)/mesos"
        let registry = AgentRegistry(
            store: ZooKeeperAgentRegistryStore(client: client, electionPath: path, logger: self.logger),
            logger: self.logger
        )
        do {
            try await body(registry, client, path)
        } catch {
            await client.close()
            throw error
        }
        try? await client.deleteRecursively(String(path.dropLast("/mesos".count)))
        await client.close()
    }

    @Test(.enabled(if: zooKeeper != nil, "needs REGATTA_TEST_ZK (scripts/test.sh starts ZooKeeper)"))
    func writesForOneAgentApplyInOrderAndLoadReadsThemBack() async throws {
        try await self.withRegistry { registry, client, path in
            #expect(try await registry.load().isEmpty)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await registry.run() }
                // Submitted back to back without waiting: the last one wins.
                registry.writeInBackground(Self.entry(1, .admitted), exists: false)
                registry.writeInBackground(Self.entry(1, .unreachable), exists: true)
                registry.writeInBackground(Self.entry(1, .gone), exists: true)
                // `exists` is only a hint: a create of an existing node updates it.
                try await registry.write(Self.entry(2, .unreachable), exists: true)
                // A write waits for the earlier ones of its agent: once it is done, all of agent 1's are.
                try await registry.write(Self.entry(1, .gone), exists: true)
                group.cancelAll()
            }
            try await client.create(path + "/registry/agents/garbage", data: Array("not json".utf8))
            let loaded = try await registry.load().sorted { $0.agentID < $1.agentID }
            #expect(loaded == [Self.entry(1, .gone), Self.entry(2, .unreachable)])
        }
    }

    @Test(.enabled(if: zooKeeper != nil, "needs REGATTA_TEST_ZK (scripts/test.sh starts ZooKeeper)"))
    func tenThousandAgentsAreAdmittedConcurrently() async throws {
        try await self.withRegistry { registry, _, _ in
            _ = try await registry.load()
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<10_000 {
                    group.addTask { try await registry.write(Self.entry(index), exists: false) }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - start
            // One round trip each, serialized, would take far longer; pipelined they take a few seconds even in a
            // debug build on a loaded machine.
            #expect(elapsed < .seconds(30), "10,000 registry writes took \(elapsed)")
            let loadStart = ContinuousClock.now
            #expect(try await registry.load().count == 10_000)
            print("registry: 10,000 admissions in \(elapsed), load in \(ContinuousClock.now - loadStart)")
        }
    }
}
