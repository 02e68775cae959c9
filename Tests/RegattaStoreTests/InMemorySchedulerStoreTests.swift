// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@Suite struct InMemorySchedulerStoreTests {
    @Test func failingMakesEveryCallThrowAndKeepsData() async throws {
        // Given
        let store = InMemorySchedulerStore()
        let app = StoreFixtures.app("/web")
        try await store.saveApp(app)

        // When
        await store.setFailing(true)

        // Then: every call fails as unavailable
        let unavailable = InMemorySchedulerStore.Failure.Kind.unavailable
        await #expect { try await store.migrate() } throws: {
            ($0 as? InMemorySchedulerStore.Failure)?.kind == unavailable
        }
        await #expect(throws: InMemorySchedulerStore.Failure.self) { try await store.loadApps() }
        await #expect(throws: InMemorySchedulerStore.Failure.self) { try await store.saveApp(app) }
        await #expect(throws: InMemorySchedulerStore.Failure.self) { try await store.deleteApp(id: "/web") }
        await #expect(throws: InMemorySchedulerStore.Failure.self) { try await store.appVersions(id: "/web") }
        await #expect(throws: InMemorySchedulerStore.Failure.self) {
            try await store.appVersion(id: "/web", version: StoreFixtures.version(1))
        }
        await #expect(throws: InMemorySchedulerStore.Failure.self) { try await store.loadInstances() }
        await #expect(throws: InMemorySchedulerStore.Failure.self) {
            try await store.saveInstances([StoreFixtures.instance(1)])
        }
        await #expect(throws: InMemorySchedulerStore.Failure.self) { try await store.deleteInstances(ids: ["x"]) }
        await #expect(throws: InMemorySchedulerStore.Failure.self) { try await store.frameworkID() }
        await #expect(throws: InMemorySchedulerStore.Failure.self) { try await store.setFrameworkID("f") }

        // When the outage ends, the data is still there and nothing attempted during it was applied
        await store.setFailing(false)
        #expect(try await store.loadApps() == [app])
        #expect(try await store.loadInstances().isEmpty)
        #expect(try await store.frameworkID() == nil)
    }
}
