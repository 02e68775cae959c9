// SPDX-License-Identifier: Apache-2.0
import RegattaZooKeeper
import Testing

@Suite(
    .enabled(if: TestZooKeeper.isAvailable, "needs REGATTA_TEST_ZK (scripts/test.sh starts ZooKeeper)"),
    .timeLimit(.minutes(1))
)
struct LeaderElectionTests {
    @Test func contenderCreatesAMesosStyleNode() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // When
            let contender = try await LeaderContender.contend(
                client: zk,
                path: "\(root)/mesos",
                data: #"{"id":"master-1"}"#.bytes,
                logger: TestZooKeeper.logger
            )
            // Then: an ephemeral `json.info_<10 digits>` node holding the data
            #expect(contender.nodeName.hasPrefix("json.info_"))
            #expect(contender.nodeName.count == "json.info_".count + 10)
            #expect(contender.nodePath == "\(root)/mesos/\(contender.nodeName)")
            let node = try await zk.getData(contender.nodePath)
            #expect(node.data == #"{"id":"master-1"}"#.bytes)
            #expect(node.stat.isEphemeral)
            #expect(try await contender.isLeader())
        }
    }

    @Test func lowestSequenceLeads() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // Given: two contenders on separate sessions, plus nodes that are not election nodes
            let path = "\(root)/mesos"
            let first = try await TestZooKeeper.connect()
            let second = try await TestZooKeeper.connect()
            let a = try await contend(first, path, "a")
            let b = try await contend(second, path, "b")
            try await zk.create("\(path)/info_", data: "legacy protobuf".bytes, sequential: true)
            try await zk.create("\(path)/log_replicas")
            // When
            let leader = try await detector(zk, path).currentLeader()
            // Then
            #expect(a.sequence < b.sequence)
            #expect(leader == ZooKeeperLeader(nodeName: a.nodeName, sequence: a.sequence, data: "a".bytes))
            #expect(try await a.isLeader())
            #expect(try await !b.isLeader())
            try await withTimeout("the first contender's election") { try await a.waitUntilElected() }
            await first.close()
            await second.close()
        }
    }

    @Test func detectorReportsTheNextLeaderWhenTheLeaderGoes() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // Given
            let path = "\(root)/mesos"
            let first = try await TestZooKeeper.connect()
            let second = try await TestZooKeeper.connect()
            _ = try await contend(first, path, "a")
            let b = try await contend(second, path, "b")
            let leaderDetector = detector(zk, path)
            var leaders = leaderDetector.leaders().makeAsyncIterator()
            let initial = try await leaders.next()
            #expect(initial??.data == "a".bytes)
            let electedB = Task { try await b.waitUntilElected() }
            // When: the leader's session ends
            await first.close()
            // Then: the detector reports the other contender and it learns it leads
            let next = try await leaders.next()
            #expect(next??.nodeName == b.nodeName)
            #expect(next??.data == "b".bytes)
            try await withTimeout("the second contender's election") { try await electedB.value }
            // When the last contender withdraws, there is no leader.
            try await b.withdraw()
            #expect(try await leaders.next() == .some(.none))
            try await withTimeout("the withdrawn candidacy") { try await b.waitUntilCandidacyLost() }
            await expectZooKeeperError(.candidacyLost) { _ = try await b.isLeader() }
            await second.close()
        }
    }

    @Test func leaderWhoseSessionExpiresHandsOver() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // Given: A leads, B waits
            let path = "\(root)/mesos"
            let first = try await TestZooKeeper.connect(sessionTimeout: .seconds(4))
            let second = try await TestZooKeeper.connect()
            let a = try await contend(first, path, "a")
            let b = try await contend(second, path, "b")
            var leaders = detector(zk, path).leaders().makeAsyncIterator()
            #expect(try await leaders.next()??.nodeName == a.nodeName)
            let aLost = Task { try await a.waitUntilCandidacyLost() }
            // When: A's session expires (a partitioned master)
            try await TestZooKeeper.expireSession(of: first)
            // Then
            try await withTimeout("the expired candidacy") { try await aLost.value }
            #expect(try await leaders.next()??.nodeName == b.nodeName)
            try await withTimeout("B's election") { try await b.waitUntilElected() }
            await expectZooKeeperError(.sessionExpired) { _ = try await a.isLeader() }
            // A detector on the expired session ends with the session's error.
            var dead = detector(first, path).leaders().makeAsyncIterator()
            await expectZooKeeperError(.sessionExpired) { _ = try await dead.next() }
            await first.close()
            await second.close()
        }
    }

    @Test func detectorWaitsForTheElectionPathToAppear() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // Given: nothing under the path yet
            let path = "\(root)/later/mesos"
            let stream = detector(zk, path).leaders()
            var leaders = stream.makeAsyncIterator()
            #expect(try await leaders.next() == .some(.none))
            #expect(try await detector(zk, path).currentLeader() == nil)
            // When
            let contender = try await LeaderContender.contend(
                client: zk,
                path: path,
                data: "late".bytes,
                logger: TestZooKeeper.logger
            )
            // Then
            let leader = try await leaders.next()
            #expect(leader??.nodeName == contender.nodeName)
        }
    }

    @Test func leadersStreamEndsWhenTheClientCloses() async throws {
        let zk = try await TestZooKeeper.connect()
        let stream = ZooKeeperLeaderDetector(client: zk, path: "/regatta-test-absent", logger: TestZooKeeper.logger)
            .leaders()
        var leaders = stream.makeAsyncIterator()
        #expect(try await leaders.next() == .some(.none))
        await zk.close()
        await expectZooKeeperError(.closed) { _ = try await leaders.next() }
    }

    @Test func candidacyEndsWhenTheSessionCloses() async throws {
        try await TestZooKeeper.withRoot { _, root in
            let client = try await TestZooKeeper.connect()
            let contender = try await LeaderContender.contend(
                client: client,
                path: root,
                data: [],
                logger: TestZooKeeper.logger
            )
            let lost = Task { try await contender.waitUntilCandidacyLost() }
            await client.close()
            try await withTimeout("the candidacy to end") { try await lost.value }
        }
    }
}

private func contend(_ client: ZooKeeperClient, _ path: String, _ data: String) async throws -> LeaderContender {
    try await LeaderContender.contend(client: client, path: path, data: data.bytes, logger: TestZooKeeper.logger)
}

private func detector(_ client: ZooKeeperClient, _ path: String) -> ZooKeeperLeaderDetector {
    ZooKeeperLeaderDetector(client: client, path: path, logger: TestZooKeeper.logger)
}
