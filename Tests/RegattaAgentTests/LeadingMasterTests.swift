// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaZooKeeper
import Testing

@testable import RegattaAgent

/// The leader-following logic on its own, fed by hand instead of by ZooKeeper.
@Suite(.timeLimit(.minutes(1)))
struct LeadingMasterTests {
    private let first = MesosMasterAddress(host: "127.0.0.1", port: 5050, id: "m1")
    private let second = MesosMasterAddress(host: "127.0.0.1", port: 5051, id: "m2")

    @Test func everyChangeMovesTheGenerationOnAndRepeatsDoNot() {
        let leading = LeadingMaster()
        #expect(leading.current == .init(address: nil, generation: 0))
        #expect(leading.update(self.first))
        #expect(!leading.update(self.first))
        #expect(leading.update(nil))
        #expect(leading.update(self.second))
        #expect(leading.current == .init(address: self.second, generation: 3))
    }

    @Test func waitersWakeOnChangeAndNotBefore() async throws {
        let leading = LeadingMaster()
        leading.update(self.first)
        let waiter = Task {
            await leading.waitForChange(from: 1)
            return ContinuousClock.now
        }
        // The same leader again is no change.
        try await Task.sleep(for: .milliseconds(100))
        leading.update(self.first)
        try await Task.sleep(for: .milliseconds(100))
        let changedAt = ContinuousClock.now
        leading.update(self.second)
        let wokeAt = await waiter.value
        #expect(wokeAt >= changedAt)
        // A waiter that is already behind returns at once.
        await leading.waitForChange(from: 0)
    }

    @Test func waitForLeaderIgnoresTheTimeWithoutOne() async throws {
        let leading = LeadingMaster()
        let (leaders, feed) = AsyncStream.makeStream(of: MesosMasterAddress?.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await leading.follow(leaders, logger: Logger(label: "test")) }
            let waiter = Task { await leading.waitForLeader() }
            feed.yield(nil)
            try await Task.sleep(for: .milliseconds(100))
            feed.yield(self.second)
            let snapshot = await waiter.value
            #expect(snapshot?.address == self.second)
            // When the detector stops, nothing is followed any more: no leader is known.
            feed.finish()
            try await group.waitForAll()
        }
        #expect(leading.current.address == nil)
    }

    @Test func cancelledWaitersReturn() async {
        let leading = LeadingMaster()
        let waiter = Task { await leading.waitForLeader() }
        waiter.cancel()
        #expect(await waiter.value == nil)
        let changeWaiter = Task { await leading.waitForChange(from: 0) }
        changeWaiter.cancel()
        await changeWaiter.value
    }

    @Test func parsesMasterSources() throws {
        #expect(try MasterSource(master: "127.0.0.1:5050") == .fixed(endpoint: "http://127.0.0.1:5050/api/v1/agent"))
        guard case .zooKeeper(let url) = try MasterSource(master: "zk://127.0.0.1:2181,127.0.0.1:2182/mesos") else {
            Issue.record("a zk:// master is a ZooKeeper source")
            return
        }
        #expect(url.path == "/mesos")
        #expect(url.servers.count == 2)
        for master in ["zk://", "zk://127.0.0.1:2181", "zk://127.0.0.1:2181/"] {
            let error = #expect(throws: AgentError.self) { try MasterSource(master: master) }
            #expect(error?.code == .invalidConfiguration)
        }
    }

    @Test func resolvesRedirectLocationsAsMesosSendsThem() {
        let base = "http://127.0.0.1:5050/api/v1/agent"
        // Mesos and Regatta send a protocol-relative location.
        #expect(
            MasterSource.endpoint(location: "//10.0.0.2:5051/api/v1/agent", relativeTo: base)
                == "http://10.0.0.2:5051/api/v1/agent"
        )
        #expect(
            MasterSource.endpoint(location: "http://leader.example:6060/api/v1/agent", relativeTo: base)
                == "http://leader.example:6060/api/v1/agent"
        )
        #expect(MasterSource.endpoint(location: "/api/v1/agent", relativeTo: base) == base)
        #expect(MasterSource.endpoint(self.second) == "http://127.0.0.1:5051/api/v1/agent")
    }
}
