// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import RegattaStore

@Suite struct StoreLocationTests {
    @Test func parsesFullPostgresURL() throws {
        let location = try StoreLocation(
            url: "postgres://regatta:s%40cret@db.example:6432/scheduler?schema=prod_1&sslmode=require&connect_timeout=3"
        )
        guard case .postgres(let configuration) = location else {
            Issue.record("expected a PostgreSQL location, got \(location)")
            return
        }
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6432)
        #expect(configuration.username == "regatta")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == "scheduler")
        #expect(configuration.schema == "prod_1")
        #expect(configuration.tls == .require)
        #expect(configuration.connectionTimeout == .seconds(3))
        #expect(!configuration.description.contains("s@cret"))
    }

    @Test func appliesPostgresDefaults() throws {
        let location = try StoreLocation(url: "postgresql://postgres@127.0.0.1")
        var expected = PostgresSchedulerStore.Configuration(host: "127.0.0.1", username: "postgres")
        expected.tls = .prefer
        #expect(location == .postgres(expected))
        #expect(expected.port == 5432 && expected.schema == "public" && expected.database == nil)
    }

    @Test func parsesBracketedIPv6Host() throws {
        guard case .postgres(let configuration) = try StoreLocation(url: "postgres://u:p@[::1]:5433/db") else {
            Issue.record("expected a PostgreSQL location")
            return
        }
        #expect(configuration.host == "::1")
        #expect(configuration.port == 5433)
    }

    @Test func parsesAbsoluteSQLitePath() throws {
        #expect(
            try StoreLocation(url: "sqlite:///var/lib/regatta/scheduler.db")
                == .sqlite(SQLiteSchedulerStore.Configuration(path: "/var/lib/regatta/scheduler.db"))
        )
        #expect(
            try StoreLocation(url: "sqlite:///tmp/with%20space.db")
                == .sqlite(SQLiteSchedulerStore.Configuration(path: "/tmp/with space.db"))
        )
    }

    @Test func resolvesRelativeSQLitePathAgainstWorkingDirectory() throws {
        guard case .sqlite(let configuration) = try StoreLocation(url: "sqlite://data/scheduler.db") else {
            Issue.record("expected an SQLite location")
            return
        }
        let expected = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent("data/scheduler.db").standardizedFileURL.path
        #expect(configuration.path == expected)
        #expect(configuration.path.hasPrefix("/"))
    }

    @Test(arguments: [
        "",
        "scheduler.db",
        "mysql://root@localhost/db",
        "postgres://localhost:5432/db",
        "postgres://user@:5432/db",
        "postgres://user@host:0/db",
        "postgres://user@host:99999/db",
        "postgres://user@host:abc/db",
        "postgres://user@host/db/extra",
        "postgres://user@host/db?schema=bad-name",
        "postgres://user@host/db?schema=1abc",
        "postgres://user@host/db?sslmode=sometimes",
        "postgres://user@host/db?connect_timeout=-1",
        "postgres://user@host/db?pool=5",
        "postgres://user@[::1/db",
        "sqlite://",
        "sqlite:///",
        "sqlite:///var/lib/regatta/",
    ])
    func rejectsMalformedURL(_ url: String) throws {
        let error = try #require(throws: StoreError.self) { try StoreLocation(url: url) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains("postgres://USER[:PASSWORD]@HOST"))
        #expect(error.message.contains("sqlite:///ABSOLUTE/PATH"))
    }

    @Test func errorMessagesNeverContainThePassword() throws {
        for url in [
            "postgres://admin:hunter2@host:notaport/db",
            "postgres://admin:hunter2@host/db?sslmode=maybe",
            "postgresql://admin:hunter2@/db",
            "postgres://admin:hunter2/x@host:bad/db",
            "postgres://admin:hunter2#x@host/db",
        ] {
            let error = try #require(throws: StoreError.self) { try StoreLocation(url: url) }
            #expect(!error.message.contains("hunter2"), "\(error.message)")
            #expect(!error.message.contains("/x@"))
            #expect(!String(reflecting: error).contains("hunter2"))
            #expect(error.message.contains("admin:***@"))
        }
        let noScheme = try #require(throws: StoreError.self) { try StoreLocation(url: "admin:hunter2@host/db") }
        #expect(!noScheme.message.contains("hunter2"))
    }

    @Test func factoryBuildsTheNamedStore() throws {
        let sqlite = try SchedulerStoreFactory.make(
            url: "sqlite:///tmp/regatta-factory-test.db",
            logger: StoreFixtures.logger
        )
        #expect(sqlite is SQLiteSchedulerStore)
        let postgres = try SchedulerStoreFactory.make(
            url: "postgres://postgres@127.0.0.1:5432/postgres?schema=tenant_a",
            logger: StoreFixtures.logger
        )
        #expect((postgres as? PostgresSchedulerStore)?.configuration.schema == "tenant_a")
        #expect(throws: StoreError.self) {
            try SchedulerStoreFactory.make(url: "redis://x", logger: StoreFixtures.logger)
        }
    }
}
