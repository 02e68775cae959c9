// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaModel
@_spi(Testing) import RegattaStore
import RegattaTestKit

/// Empty storage for one test: a fresh in-memory store, SQLite file or PostgreSQL schema.
protocol StoreStorage: Sendable {
    /// The backend's name, for messages.
    var name: String { get }
    /// Opens a new store on this storage, migrates it, runs `body`, then closes the store.
    /// Calling it twice opens the same data twice, as a restarted scheduler would.
    func withStore(_ body: (any SchedulerStore) async throws -> Void) async throws
}

/// Creates and destroys ``StoreStorage`` of one kind.
protocol StoreBackend: Sendable {
    /// Creates empty storage, runs `body` with it, then deletes it (also when `body` throws).
    func withStorage(_ body: (any StoreStorage) async throws -> Void) async throws
}

// MARK: In memory

struct InMemoryBackend: StoreBackend {
    struct Storage: StoreStorage {
        /// The data every store of this storage shares, as processes share a database.
        let data = InMemorySchedulerStore()
        var name: String { "in-memory" }
        func withStore(_ body: (any SchedulerStore) async throws -> Void) async throws {
            let store = InMemorySchedulerStore(sharingDataWith: self.data)
            try await store.migrate()
            try await body(store)
        }
    }

    func withStorage(_ body: (any StoreStorage) async throws -> Void) async throws {
        try await body(Storage())
    }
}

// MARK: SQLite

struct SQLiteBackend: StoreBackend {
    struct Storage: StoreStorage {
        let path: String
        var name: String { "SQLite" }
        func withStore(_ body: (any SchedulerStore) async throws -> Void) async throws {
            let store = SQLiteSchedulerStore(path: self.path, logger: StoreFixtures.logger)
            do {
                try await store.migrate()
                try await body(store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }

    /// A new temporary directory; the caller removes it.
    static func makeTemporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("regatta-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    func withStorage(_ body: (any StoreStorage) async throws -> Void) async throws {
        let directory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(Storage(path: directory.appendingPathComponent("scheduler.db").path))
    }
}

// MARK: PostgreSQL

struct PostgresBackend: StoreBackend {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`, set by the test script when a server is running.
    static let url = ProcessInfo.processInfo.environment["REGATTA_TEST_PG_URL"]
    static var isAvailable: Bool { Self.url != nil }

    struct Storage: StoreStorage {
        let configuration: PostgresSchedulerStore.Configuration
        var name: String { "PostgreSQL" }

        func withStore(_ body: (any SchedulerStore) async throws -> Void) async throws {
            try await self.withRunningStore { store in
                try await store.migrate()
                try await body(store)
            }
        }

        /// Runs `body` with a store whose `run()` is running, and stops it afterwards.
        func withRunningStore(_ body: (PostgresSchedulerStore) async throws -> Void) async throws {
            let store = try PostgresSchedulerStore(configuration: self.configuration, logger: StoreFixtures.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.run() }
                do {
                    try await body(store)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
    }

    /// A configuration for a new, randomly named schema on the test server.
    static func freshConfiguration() throws -> PostgresSchedulerStore.Configuration {
        guard let url = Self.url, case .postgres(var configuration) = try StoreLocation(url: url) else {
            throw StoreError(.invalidConfiguration, "REGATTA_TEST_PG_URL must be a postgres:// URL.")
        }
        configuration.schema = "regatta_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        configuration.tls = .disable
        configuration.maximumConnections = 4
        return configuration
    }

    func withStorage(_ body: (any StoreStorage) async throws -> Void) async throws {
        let storage = Storage(configuration: try Self.freshConfiguration())
        do {
            try await body(storage)
        } catch {
            try? await storage.withRunningStore { try await $0.dropSchema() }
            throw error
        }
        try await storage.withRunningStore { try await $0.dropSchema() }
    }
}
