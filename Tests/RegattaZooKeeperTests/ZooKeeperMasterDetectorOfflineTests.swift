// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import RegattaZooKeeper

/// What the master detector does with no ZooKeeper server: it reports that no leader is known, keeps retrying, and
/// ends when its consumer is cancelled.
@Suite(.timeLimit(.minutes(1)))
struct ZooKeeperMasterDetectorOfflineTests {
    @Test func reportsNoLeaderWhileZooKeeperIsUnreachableAndEndsWhenCancelled() async throws {
        // Given: a port nobody listens on
        let port = try freePort()
        let url = try ZooKeeperURL(parsing: "zk://127.0.0.1:\(port)/mesos")
        let detector = ZooKeeperMasterDetector(url: url, sessionTimeout: .seconds(1), logger: TestZooKeeper.logger)
        // When
        let consumer = Task {
            var seen: [MesosMasterAddress?] = []
            for await leader in detector.leaders() { seen.append(leader) }
            return seen
        }
        // Then: the first value says no leader is known; cancelling ends the stream with nothing else reported
        // (the retries report no change).
        try await Task.sleep(for: .seconds(3))
        consumer.cancel()
        let seen = await consumer.value
        #expect(seen == [nil])
    }
}
