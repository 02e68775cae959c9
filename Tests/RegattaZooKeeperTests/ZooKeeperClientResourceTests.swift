// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import RegattaZooKeeper

/// Handles, threads, file descriptors and watch contexts do not outlive their clients.
@Suite(
    .enabled(if: TestZooKeeper.isAvailable, "needs REGATTA_TEST_ZK (scripts/test.sh starts ZooKeeper)"),
    .timeLimit(.minutes(1)),
    .serialized
)
struct ZooKeeperClientResourceTests {
    @Test func watchesAreReleasedWhenTheyFireFailOrTheClientCloses() async throws {
        let zk = try await TestZooKeeper.connect()
        let root = "/regatta-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try await zk.create(root)
        // A watch that fires leaves the registry.
        let fired = try await zk.watchChildren(root)
        try await zk.create("\(root)/child")
        _ = try await withTimeout("the watch") { try await fired.watch.event() }
        #expect(zk.watches.count == 0)
        // A read that fails never registered its watch.
        await expectZooKeeperError(.noNode) { _ = try await zk.watchData("\(root)/missing") }
        #expect(zk.watches.count == 0)
        // Pending watches stay until the client closes.
        let pending = try await zk.watchExists("\(root)/missing")
        _ = try await zk.watchData("\(root)/child")
        #expect(zk.watches.count == 2)
        try await zk.deleteRecursively(root)
        await zk.close()
        #expect(zk.watches.count == 0)
        #expect(zk.calls.count == 0)
        await expectZooKeeperError(.closed) { _ = try await pending.watch.event() }
    }

    /// libzookeeper-mt 3.8 drops the completions of calls still queued when the handle closes; the client must end
    /// them itself. With a grace period most are answered; without one most are dropped by the C client.
    @Test(arguments: [Duration.zero, .seconds(2)])
    func closingEndsEveryCallInFlight(grace: Duration) async throws {
        for _ in 0..<5 {
            // Given: many calls on their way
            let zk = try await TestZooKeeper.connect()
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        do {
                            _ = try await zk.exists(index.isMultiple(of: 2) ? "/" : "/zookeeper")
                            return "ok"
                        } catch let error as ZooKeeperError {
                            return "\(error.code)"
                        }
                    }
                }
                // When
                try await Task.sleep(for: .milliseconds(1))
                await zk.close(drainingFor: grace)
                // Then: each one ends, answered or closed
                var outcomes: [String] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(outcomes.count == 200)
            #expect(Set(outcomes).isSubset(of: ["ok", "closed", "connectionLoss"]), "\(Set(outcomes))")
            #expect(zk.calls.count == 0)
        }
    }

    @Test func connectingAndClosingLeaksNoThreadsOrDescriptors() async throws {
        // Warm up: the first client starts the process-wide log pipe reader.
        await (try await TestZooKeeper.connect()).close()
        try await Task.sleep(for: .milliseconds(200))
        let threadsBefore = Self.count("/proc/self/task")
        let descriptorsBefore = Self.count("/proc/self/fd")
        // When: each C handle has two threads, a socket and a wake-up pipe, so a leak would add well over 60
        // threads and 90 descriptors here (other tests run in this process at the same time: hence the slack).
        for _ in 0..<30 {
            let zk = try await TestZooKeeper.connect()
            _ = try await zk.watchExists("/regatta-test-never")
            _ = try await zk.exists("/")
            await zk.close()
        }
        // A client dropped without close() is closed by deinit on a background thread.
        for _ in 0..<5 {
            _ = try await TestZooKeeper.connect().exists("/")
        }
        try await Task.sleep(for: .seconds(1))
        // Then
        #expect(Self.count("/proc/self/task") < threadsBefore + 16)
        #expect(Self.count("/proc/self/fd") < descriptorsBefore + 24)
    }

    private static func count(_ directory: String) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: directory).count) ?? 0
    }
}
