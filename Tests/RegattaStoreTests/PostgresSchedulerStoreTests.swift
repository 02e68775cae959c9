// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaModel
@_spi(Testing) import RegattaStore
import Testing

@Suite struct PostgresSchedulerStoreTests {
    @Test func unreachableServerIsUnavailableWithinTheTimeout() async throws {
        // Given: nothing listens on port 1
        var configuration = PostgresSchedulerStore.Configuration(host: "127.0.0.1", port: 1, username: "postgres")
        configuration.tls = .disable
        configuration.connectionTimeout = .milliseconds(500)
        let storage = PostgresBackend.Storage(configuration: configuration)

        // When
        let clock = ContinuousClock()
        let start = clock.now
        var caught: StoreError?
        try await storage.withRunningStore { store in
            caught = await #expect(throws: StoreError.self) { try await store.loadApps() }
        }

        // Then
        let error = try #require(caught)
        #expect(error.code == .unavailable)
        #expect(error.message.contains("127.0.0.1:1"))
        #expect(clock.now - start < .seconds(5))
    }

    @Test func rejectsSchemaNameThatIsNotAnIdentifier() {
        for schema in ["", "a-b", "1abc", "x\"; DROP TABLE apps; --", String(repeating: "a", count: 64)] {
            let configuration = PostgresSchedulerStore.Configuration(username: "postgres", schema: schema)
            #expect(throws: StoreError.self) {
                try PostgresSchedulerStore(configuration: configuration, logger: StoreFixtures.logger)
            }
        }
    }

    @Test func descriptionHidesThePassword() {
        let configuration = PostgresSchedulerStore.Configuration(username: "u", password: "hunter2", database: "db")
        #expect(!configuration.description.contains("hunter2"))
        #expect(configuration.description.contains("u:***@"))
    }

    @Test(.enabled(if: PostgresBackend.isAvailable, "set REGATTA_TEST_PG_URL to run against PostgreSQL"))
    func concurrentMigrationsOfOneSchemaBothSucceed() async throws {
        try await PostgresBackend().withStorage { storage in
            let storage = try #require(storage as? PostgresBackend.Storage)
            // Given: two schedulers starting at once against a schema that does not exist yet
            try await storage.withRunningStore { first in
                try await storage.withRunningStore { second in
                    // When
                    async let a: Void = first.migrate()
                    async let b: Void = second.migrate()
                    _ = try await (a, b)

                    // Then
                    try await first.saveApp(StoreFixtures.app("/web"))
                    #expect(try await second.loadApps().map(\.id) == ["/web"])
                }
            }
        }
    }

    @Test(.enabled(if: PostgresBackend.isAvailable, "set REGATTA_TEST_PG_URL to run against PostgreSQL"))
    func migrationTwoMovesTheDeploymentsOutOfTheKVTable() async throws {
        try await PostgresBackend().withStorage { storage in
            let storage = try #require(storage as? PostgresBackend.Storage)
            let deployments = StoreFixtures.legacyDeployments
            // Given: a schema as Regatta left it before migration 2, with deployments in one kv value
            try await storage.withRunningStore { store in
                try await store.migrate(upTo: 1)
                try await store.execute(
                    testSQL:
                        "INSERT INTO {schema}.kv (key, value) VALUES ('deployments', '\(try StoreFixtures.legacyDeploymentsJSON())')"
                )
            }

            // When: a current Regatta opens it
            try await storage.withRunningStore { store in
                try await store.migrate()

                // Then: the deployments are rows, and writes touch them one by one
                #expect(try await store.loadDeployments() == deployments.sorted { $0.id < $1.id })
                try await store.updateDeployments(DeploymentChanges(deletes: [deployments[0].id]))
                #expect(try await store.loadDeployments() == [deployments[1]])
            }
        }
    }

    @Test(.enabled(if: PostgresBackend.isAvailable, "set REGATTA_TEST_PG_URL to run against PostgreSQL"))
    func callsBeforeMigrateFailAsQueryFailed() async throws {
        try await PostgresBackend().withStorage { storage in
            let storage = try #require(storage as? PostgresBackend.Storage)
            try await storage.withRunningStore { store in
                let error = try await #require(throws: StoreError.self) { try await store.loadApps() }
                #expect(error.code == .queryFailed)
                #expect(error.message.contains("migrate()"))
            }
        }
    }
}
