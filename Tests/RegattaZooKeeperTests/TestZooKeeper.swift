// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaZooKeeper
import Testing

/// The ZooKeeper server the tests run against (`REGATTA_TEST_ZK=127.0.0.1:PORT`, set by scripts/test.sh).
enum TestZooKeeper {
    static var connectionString: String? {
        ProcessInfo.processInfo.environment["REGATTA_TEST_ZK"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var isAvailable: Bool { connectionString != nil }

    /// Tests log nothing unless REGATTA_TEST_LOG_LEVEL (e.g. `debug`) is set.
    static let logger: Logger = {
        let environment = ProcessInfo.processInfo.environment
        guard let level = environment["REGATTA_TEST_LOG_LEVEL"].flatMap({ Logger.Level(rawValue: $0) }) else {
            return Logger(label: "regatta.zookeeper.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        }
        var logger = Logger(label: "regatta.zookeeper.tests", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = level
        return logger
    }()

    static func connect(
        sessionTimeout: Duration = .seconds(10),
        credentials: ZooKeeperURL.Credentials? = nil,
        resuming session: ZooKeeperSessionID? = nil
    ) async throws -> ZooKeeperClient {
        let servers = try #require(connectionString, "REGATTA_TEST_ZK is not set")
        return try await ZooKeeperClient.connect(
            connectionString: servers,
            sessionTimeout: sessionTimeout,
            connectTimeout: .seconds(20),
            credentials: credentials,
            resuming: session,
            logger: logger
        )
    }

    /// Expires `client`'s session the way Curator's KillSession does: another client resumes the session and closes
    /// it. The owner may win its connection back first, so this repeats until the owner sees the expiry.
    static func expireSession(of client: ZooKeeperClient) async throws {
        let session = try #require(client.sessionID, "the client has no session")
        for _ in 0..<20 {
            if client.sessionState == .expired { return }
            let thief = try? await connect(sessionTimeout: .seconds(4), resuming: session)
            await thief?.close()
            let deadline = ContinuousClock.now + .seconds(2)
            while ContinuousClock.now < deadline {
                if client.sessionState == .expired { return }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        Issue.record("Could not expire session \(session)")
    }

    /// Runs `body` with a connected client and a fresh root znode of its own, removed afterwards.
    static func withRoot(_ body: (ZooKeeperClient, String) async throws -> Void) async throws {
        let client = try await connect()
        let root = "/regatta-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try await client.create(root)
        do {
            try await body(client, root)
        } catch {
            try? await client.deleteRecursively(root)
            await client.close()
            throw error
        }
        try await client.deleteRecursively(root)
        await client.close()
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "Timed out waiting for \(what)" }
}

/// Runs `body`, failing with `TimedOut` after `limit` so a missing event fails the test instead of hanging it.
func withTimeout<T: Sendable>(
    _ what: String,
    limit: Duration = .seconds(20),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Expects `body` to throw a ZooKeeperError with `code`.
func expectZooKeeperError(
    _ code: ZooKeeperError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("Expected ZooKeeperError \(code), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ZooKeeperError {
        #expect(error.code == code, "\(error.debugDescription)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("Expected ZooKeeperError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

extension String {
    var bytes: [UInt8] { Array(self.utf8) }
}
