// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaModel
import Testing

@_spi(Testing) @testable import RegattaStore

@Suite struct SQLiteSchedulerStoreTests {
    @Test func usesWriteAheadLogFile() async throws {
        // Given
        let directory = try SQLiteBackend.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nested/dir/scheduler.db").path
        try await Self.withStore(path: path) { store in
            // When
            try await store.migrate()
            try await store.saveApp(StoreFixtures.app("/web"))

            // Then: the missing directories were created and SQLite keeps a -wal file next to the database
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test func twoStoresOnOneFileMigrateConcurrently() async throws {
        // Given: two processes' worth of connections on one new file
        let directory = try SQLiteBackend.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("scheduler.db").path
        try await Self.withStore(path: path) { first in
            try await Self.withStore(path: path) { second in
                // When
                async let a: Void = first.migrate()
                async let b: Void = second.migrate()
                _ = try await (a, b)

                // Then: both work on the same data
                try await first.saveApp(StoreFixtures.app("/web"))
                #expect(try await second.loadApps().map(\.id) == ["/web"])
            }
        }
    }

    /// Runs `body` with a store on `path` and closes it afterwards, also when `body` throws.
    private static func withStore(path: String, _ body: (SQLiteSchedulerStore) async throws -> Void) async throws {
        let store = SQLiteSchedulerStore(path: path, logger: StoreFixtures.logger)
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    @Test func closedStoreIsUnavailable() async throws {
        // Given
        let directory = try SQLiteBackend.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SQLiteSchedulerStore(
            path: directory.appendingPathComponent("s.db").path,
            logger: StoreFixtures.logger
        )
        try await store.migrate()

        // When
        try await store.close()

        // Then
        let error = try await #require(throws: StoreError.self) { try await store.loadApps() }
        #expect(error.code == .unavailable)
        #expect(error.isRetryable)
    }

    @Test func runClosesTheStoreWhenCancelled() async throws {
        // Given
        let directory = try SQLiteBackend.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SQLiteSchedulerStore(
            path: directory.appendingPathComponent("s.db").path,
            logger: StoreFixtures.logger
        )

        // When: run() serves while running and closes on cancellation
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            try await store.migrate()
            try await store.setFrameworkID("f-1")
            group.cancelAll()
            try await group.waitForAll()
        }

        // Then
        let error = try await #require(throws: StoreError.self) { try await store.frameworkID() }
        #expect(error.code == .unavailable)
    }

    @Test func unopenablePathIsUnavailable() async throws {
        // Given: a "directory" that is a regular file
        let directory = try SQLiteBackend.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: file)
        let store = SQLiteSchedulerStore(path: file.appendingPathComponent("s.db").path, logger: StoreFixtures.logger)

        // When / Then
        let error = try await #require(throws: StoreError.self) { try await store.migrate() }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("not-a-directory"))
    }

    @Test func fileThatIsNotADatabaseIsUnavailable() async throws {
        // Given
        let directory = try SQLiteBackend.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("garbage.db")
        try Data(repeating: 0x42, count: 4096).write(to: file)
        let store = SQLiteSchedulerStore(path: file.path, logger: StoreFixtures.logger)

        // When / Then
        let error = try await #require(throws: StoreError.self) { try await store.migrate() }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("garbage.db"))
    }

    @Test func migrationTwoMovesTheDeploymentsOutOfTheKVTable() async throws {
        // Given: a database as Regatta left it before migration 2, with deployments in one kv value
        let directory = try SQLiteBackend.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("scheduler.db").path
        let deployments = StoreFixtures.legacyDeployments
        try await Self.withStore(path: path) { store in
            try await store.migrate(upTo: 1)
            try await store.execute(
                testSQL:
                    "INSERT INTO kv (key, value) VALUES ('deployments', '\(try StoreFixtures.legacyDeploymentsJSON())')"
            )
        }

        // When: a current Regatta opens it
        try await Self.withStore(path: path) { store in
            try await store.migrate()

            // Then: the deployments are rows, and writes touch them one by one
            #expect(try await store.loadDeployments() == deployments.sorted { $0.id < $1.id })
            try await store.updateDeployments(DeploymentChanges(deletes: [deployments[0].id]))
            #expect(try await store.loadDeployments() == [deployments[1]])
        }
    }

    @Test func migrationsAreNumberedInOrder() throws {
        try SQLiteSchedulerStore.migrations.checkOrdered(backend: "SQLite")
        try PostgresSchedulerStore.migrations(schema: "\"s\"").checkOrdered(backend: "PostgreSQL")
        #expect(SQLiteSchedulerStore.migrations.count == PostgresSchedulerStore.migrations(schema: "\"s\"").count)
    }

    @Test func refusesSchemaFromNewerRegatta() throws {
        let migrations = SQLiteSchedulerStore.migrations
        try migrations.checkNotNewer(than: Set(1...migrations.latestVersion), backend: "SQLite")
        let error = try #require(throws: StoreError.self) {
            try migrations.checkNotNewer(than: [1, migrations.latestVersion + 1], backend: "SQLite")
        }
        #expect(error.code == .schemaTooNew)
    }
}
