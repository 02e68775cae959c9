// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaZooKeeper
import Testing

@Suite(
    .enabled(if: TestZooKeeper.isAvailable, "needs REGATTA_TEST_ZK (scripts/test.sh starts ZooKeeper)"),
    .timeLimit(.minutes(1))
)
struct ZooKeeperClientTests {
    @Test func createGetSetDelete() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // Given
            let path = "\(root)/node"
            // When
            let created = try await zk.create(path, data: "one".bytes)
            let first = try await zk.getData(path)
            let stat = try await zk.setData(path, data: "two".bytes, version: first.stat.version)
            let second = try await zk.getData(path)
            // Then
            #expect(created == path)
            #expect(first.data == "one".bytes)
            #expect(first.stat.version == 0)
            #expect(!first.stat.isEphemeral)
            #expect(stat.version == 1)
            #expect(second.data == "two".bytes)
            #expect(second.stat.dataLength == 3)
            #expect(try await zk.exists(path)?.version == 1)

            // A stale version is a conflict; an existing node cannot be created twice.
            await expectZooKeeperError(.badVersion) { try await zk.setData(path, data: [], version: 0) }
            await expectZooKeeperError(.nodeExists) { try await zk.create(path) }
            await expectZooKeeperError(.badVersion) { try await zk.delete(path, version: 0) }

            try await zk.delete(path, version: 1)
            #expect(try await zk.exists(path) == nil)
            await expectZooKeeperError(.noNode) { _ = try await zk.getData(path) }
            await expectZooKeeperError(.noNode) { try await zk.delete(path) }
            await expectZooKeeperError(.noNode) { try await zk.create("\(root)/missing/child") }
        }
    }

    @Test func emptyDataReadsBackEmpty() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            try await zk.create("\(root)/empty")
            let node = try await zk.getData("\(root)/empty")
            #expect(node.data.isEmpty)
            #expect(node.stat.dataLength == 0)
        }
    }

    @Test func createParentsMakesEveryMissingAncestor() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // When
            try await zk.createParents(of: "\(root)/a/b/c/leaf")
            try await zk.createParents(of: "\(root)/a/b/c/leaf")  // idempotent
            // Then
            #expect(try await zk.getChildren(root) == ["a"])
            #expect(try await zk.getChildren("\(root)/a/b") == ["c"])
            #expect(try await zk.exists("\(root)/a/b/c/leaf") == nil)
        }
    }

    @Test func listsChildrenAndDeletesRecursively() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            for name in ["x", "y", "z"] { try await zk.create("\(root)/\(name)") }
            try await zk.create("\(root)/x/deep")
            #expect(Set(try await zk.getChildren(root)) == ["x", "y", "z"])
            await expectZooKeeperError(.notEmpty) { try await zk.delete("\(root)/x") }

            try await zk.deleteRecursively("\(root)/x")
            #expect(Set(try await zk.getChildren(root)) == ["y", "z"])
            try await zk.deleteRecursively("\(root)/never-existed")
        }
    }

    @Test func sequentialNodesGetIncreasingTenDigitSuffixes() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // When
            var paths: [String] = []
            for _ in 0..<3 { paths.append(try await zk.create("\(root)/item_", sequential: true)) }
            // Then
            let suffixes = paths.map { $0.dropFirst("\(root)/item_".count) }
            #expect(suffixes.allSatisfy { $0.count == 10 && $0.allSatisfy(\.isNumber) })
            #expect(suffixes.map { Int($0)! } == [0, 1, 2])
            #expect(Set(try await zk.getChildren(root)) == Set(paths.map { String($0.split(separator: "/").last!) }))
        }
    }

    @Test func ephemeralNodeDisappearsWhenItsClientCloses() async throws {
        try await TestZooKeeper.withRoot { observer, root in
            // Given
            let owner = try await TestZooKeeper.connect()
            let path = try await owner.create("\(root)/ephemeral_", data: "me".bytes, ephemeral: true, sequential: true)
            let stat = try #require(try await observer.exists(path))
            #expect(stat.isEphemeral)
            #expect(stat.ephemeralOwner == owner.sessionID?.id)
            await expectZooKeeperError(.noChildrenForEphemerals) { try await owner.create("\(path)/child") }
            // When
            await owner.close()
            // Then
            #expect(try await observer.exists(path) == nil)
            #expect(owner.sessionState == .closed)
        }
    }

    @Test func childrenWatchFiresOnceOnTheFirstChange() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // Given
            let watched = try await zk.watchChildren(root)
            #expect(watched.value.isEmpty)
            #expect(!watched.watch.hasFired)
            // When
            try await zk.create("\(root)/first")
            try await zk.create("\(root)/second")
            // Then
            let event = try await withTimeout("the children watch") { try await watched.watch.event() }
            #expect(event == ZooKeeperWatchEvent(kind: .childrenChanged, path: root))
            #expect(watched.watch.hasFired)
            // A fired watch answers every later waiter with the same event.
            #expect(try await watched.watch.event() == event)
        }
    }

    @Test func dataWatchFiresOnChangeAndOnDelete() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            let path = "\(root)/data"
            try await zk.create(path, data: "a".bytes)

            let changed = try await zk.watchData(path)
            #expect(changed.value.data == "a".bytes)
            try await zk.setData(path, data: "b".bytes)
            #expect(try await withTimeout("the data watch") { try await changed.watch.event() }.kind == .dataChanged)

            let deleted = try await zk.watchData(path)
            try await zk.delete(path)
            #expect(try await withTimeout("the delete watch") { try await deleted.watch.event() }.kind == .deleted)

            await expectZooKeeperError(.noNode) { _ = try await zk.watchData(path) }
            await expectZooKeeperError(.noNode) { _ = try await zk.watchChildren(path) }
        }
    }

    @Test func existsWatchFiresWhenAMissingNodeIsCreated() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            // Given
            let path = "\(root)/later"
            let watched = try await zk.watchExists(path)
            #expect(watched.value == nil)
            // When: another client creates it
            let other = try await TestZooKeeper.connect()
            try await other.create(path)
            await other.close()
            // Then
            let event = try await withTimeout("the exists watch") { try await watched.watch.event() }
            #expect(event == ZooKeeperWatchEvent(kind: .created, path: path))
        }
    }

    @Test func manyWaitersAndCancellation() async throws {
        try await TestZooKeeper.withRoot { zk, root in
            let watched = try await zk.watchChildren(root)
            let watch = watched.watch
            // A cancelled waiter gives up alone.
            let cancelled = Task { try await watch.event() }
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            // Two others still get the event.
            async let a = withTimeout("waiter a") { try await watch.event() }
            async let b = withTimeout("waiter b") { try await watch.event() }
            try await Task.sleep(for: .milliseconds(50))
            try await zk.create("\(root)/child")
            let events = try await [a, b]
            #expect(events.allSatisfy { $0.kind == .childrenChanged })
        }
    }

    @Test func closingEndsWaitingWatchesAndLaterCalls() async throws {
        // Given
        let zk = try await TestZooKeeper.connect()
        let watched = try await zk.watchExists("/regatta-test-never-\(UInt64.random(in: 0...UInt64.max))")
        let waiter = Task { try await watched.watch.event() }
        // When
        await zk.close()
        await zk.close()  // a second close returns at once
        // Then
        do {
            _ = try await withTimeout("the watch to end") { try await waiter.value }
            Issue.record("the watch fired")
        } catch let error as ZooKeeperError {
            #expect(error.code == .closed)
        }
        await expectZooKeeperError(.closed) { _ = try await zk.exists("/") }
        await expectZooKeeperError(.closed) { _ = try await zk.watchChildren("/") }
        #expect(zk.sessionID == nil)
        #expect(zk.sessionState == .closed)
    }

    @Test func sessionStatesStartWithTheCurrentStateAndEndWithClosed() async throws {
        let zk = try await TestZooKeeper.connect()
        let states = zk.sessionStates()
        #expect(zk.negotiatedSessionTimeout != nil)
        await zk.close()
        var seen: [ZooKeeperSessionState] = []
        for await state in states { seen.append(state) }
        #expect(seen == [.connected, .closed])
        // A stream made after the end holds just the end state.
        var late: [ZooKeeperSessionState] = []
        for await state in zk.sessionStates() { late.append(state) }
        #expect(late == [.closed])
    }

    @Test func expiredSessionIsReportedAndItsEphemeralNodesGo() async throws {
        try await TestZooKeeper.withRoot { observer, root in
            // Given
            let zk = try await TestZooKeeper.connect(sessionTimeout: .seconds(4))
            let states = zk.sessionStates()
            let path = try await zk.create("\(root)/mine", ephemeral: true)
            let watched = try await zk.watchExists("\(root)/never")
            // When
            try await TestZooKeeper.expireSession(of: zk)
            // Then
            let ended = try await withTimeout("the session to expire", limit: .seconds(30)) {
                var seen: [ZooKeeperSessionState] = []
                for await state in states {
                    seen.append(state)
                    if state.isTerminal { break }
                }
                return seen
            }
            #expect(ended.first == .connected)
            #expect(ended.last == .expired)
            #expect(zk.sessionState == .expired)
            await expectZooKeeperError(.sessionExpired) { _ = try await watched.watch.event() }
            await expectZooKeeperError(.sessionExpired) { _ = try await zk.exists("/") }
            await expectZooKeeperError(.sessionExpired) { try await zk.waitUntilConnected() }
            #expect(try await observer.exists(path) == nil)
            await zk.close()
        }
    }

    @Test func anotherClientCanResumeASessionWithItsPassword() async throws {
        // Given
        let original = try await TestZooKeeper.connect()
        let session = try #require(original.sessionID)
        #expect(session.password.count == 16)
        #expect("\(session)" == "0x" + String(UInt64(bitPattern: session.id), radix: 16))
        // When
        let resumed = try await TestZooKeeper.connect(resuming: session)
        // Then: the same session (the two clients now compete for its connection, so do no more with both)
        #expect(resumed.sessionID == session)
        await resumed.close()
        await original.close()
        // A wrong password is refused: the server treats the session as expired.
        var forged = session
        forged.password[0] ^= 0xff
        await expectZooKeeperError(.sessionExpired) { _ = try await TestZooKeeper.connect(resuming: forged) }
    }

    @Test func nodesAreWorldReadableAndCreatorWritableWithCredentials() async throws {
        try await TestZooKeeper.withRoot { anonymous, root in
            // Given
            let owner = try await TestZooKeeper.connect(credentials: .init(username: "mesos", password: "s3cret"))
            let path = try await owner.create("\(root)/protected", data: "master".bytes)
            // Then: anyone reads, only the creator writes
            #expect(try await anonymous.getData(path).data == "master".bytes)
            await expectZooKeeperError(.noAuth) { try await anonymous.setData(path, data: []) }
            try await owner.setData(path, data: "changed".bytes)
            // The same credentials on another session are the same identity.
            let sameUser = try await TestZooKeeper.connect(credentials: .init(username: "mesos", password: "s3cret"))
            try await sameUser.setData(path, data: "again".bytes)
            let otherUser = try await TestZooKeeper.connect(credentials: .init(username: "mesos", password: "wrong"))
            await expectZooKeeperError(.noAuth) { try await otherUser.setData(path, data: []) }
            try await owner.delete(path)
            await owner.close()
            await sameUser.close()
            await otherUser.close()
        }
    }
}

/// What needs no ZooKeeper server.
@Suite(.timeLimit(.minutes(1)))
struct ZooKeeperClientOfflineTests {
    @Test func connectTimesOutWhenNoServerAnswers() async throws {
        // Given: a port nobody listens on
        let port = try freePort()
        let started = ContinuousClock.now
        // When
        do {
            _ = try await ZooKeeperClient.connect(
                connectionString: "127.0.0.1:\(port)",
                connectTimeout: .seconds(1),
                logger: TestZooKeeper.logger
            )
            Issue.record("connected to a closed port")
        } catch let error as ZooKeeperError {
            // Then
            #expect(error.code == .connectTimeout)
            #expect(error.message.contains("127.0.0.1:\(port)"))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func malformedConnectionStringIsRejected() async throws {
        await expectZooKeeperError(.badArguments) {
            _ = try await ZooKeeperClient.connect(connectionString: "", logger: TestZooKeeper.logger)
        }
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    try #require(bound, "could not bind a port on 127.0.0.1")
    return Int(UInt16(bigEndian: address.sin_port))
}
