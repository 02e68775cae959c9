// SPDX-License-Identifier: Apache-2.0
import Testing

/// Runs ``SchedulerStoreContract`` against every backend.
@Suite struct InMemorySchedulerStoreContractTests {
    @Test(arguments: SchedulerStoreContract.checks)
    func satisfiesContract(_ check: SchedulerStoreContract.Check) async throws {
        try await InMemoryBackend().withStorage { try await check.run($0) }
    }
}

@Suite struct SQLiteSchedulerStoreContractTests {
    @Test(arguments: SchedulerStoreContract.checks)
    func satisfiesContract(_ check: SchedulerStoreContract.Check) async throws {
        try await SQLiteBackend().withStorage { try await check.run($0) }
    }
}

@Suite(.enabled(if: PostgresBackend.isAvailable, "set REGATTA_TEST_PG_URL to run against PostgreSQL"))
struct PostgresSchedulerStoreContractTests {
    @Test(arguments: SchedulerStoreContract.checks)
    func satisfiesContract(_ check: SchedulerStoreContract.Check) async throws {
        try await PostgresBackend().withStorage { try await check.run($0) }
    }
}
