// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaModel
import Testing

/// The behaviour every ``SchedulerStore`` must show. Each check runs against every backend, so the in-memory fake
/// cannot drift from the SQLite and PostgreSQL stores.
enum SchedulerStoreContract {
    /// One contract rule, run on fresh, empty storage.
    struct Check: Sendable, CustomTestStringConvertible {
        let name: String
        let run: @Sendable (any StoreStorage) async throws -> Void
        var testDescription: String { self.name }
    }

    static let checks: [Check] = [
        Check(name: "saves and loads apps sorted by id", run: savesAndLoadsAppsSortedByID),
        Check(name: "replaces the current definition on save", run: replacesCurrentDefinitionOnSave),
        Check(name: "lists versions newest first", run: listsVersionsNewestFirst),
        Check(name: "looks up one version", run: looksUpOneVersion),
        Check(name: "keeps the newest versions and those instances run", run: keepsNewestVersionsAndRunningOnes),
        Check(name: "rejects an app without a version", run: rejectsAppWithoutVersion),
        Check(name: "rejects an app that cannot be encoded", run: rejectsAppThatCannotBeEncoded),
        Check(name: "deleting an app removes its versions and instances", run: deletingAppCascades),
        Check(name: "upserts instances in one batch", run: upsertsInstancesInOneBatch),
        Check(name: "deletes instances by id", run: deletesInstancesByID),
        Check(name: "stores the framework id", run: storesFrameworkID),
        Check(name: "upserts and deletes deployments by id", run: upsertsAndDeletesDeployments),
        Check(name: "saves an app with its deployment changes in one transaction", run: savesAppWithDeployments),
        Check(name: "a failed app save changes no deployment", run: failedAppSaveChangesNoDeployment),
        Check(name: "deletes an app with its deployment changes in one transaction", run: deletesAppWithDeployments),
        Check(name: "saves and deletes 1,000 deployments in one call", run: updatesThousandDeployments),
        Check(name: "migrating again changes nothing", run: migratingAgainChangesNothing),
        Check(name: "reopening loses nothing", run: reopeningLosesNothing),
        Check(name: "serves concurrent calls", run: servesConcurrentCalls),
        Check(name: "saves 1,000 instances in one call", run: savesThousandInstancesInOneCall),
        Check(name: "claims leadership epochs that only grow", run: claimsGrowingEpochs),
        Check(name: "refuses every write of a lower epoch and changes nothing", run: refusesWritesOfLowerEpoch),
    ]

    // MARK: Apps

    static func savesAndLoadsAppsSortedByID(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given: ids whose byte order differs from case-insensitive or locale order
            let ids = ["/web", "/Zeta", "/api/v2", "/api", "/é-app", "/a-b", "/a.b"]
            let apps = ids.map { StoreFixtures.app($0) }
            #expect(try await store.loadApps().isEmpty)

            // When
            for app in apps {
                try await store.saveApp(app)
            }

            // Then
            let loaded = try await store.loadApps()
            let expected = apps.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
            #expect(loaded.map(\.id) == expected.map(\.id))
            #expect(loaded == expected)
        }
    }

    static func replacesCurrentDefinitionOnSave(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given
            try await store.saveApp(StoreFixtures.app("/web", version: 1, instances: 2))

            // When: a new version, then an edit saved under the same version
            var scaled = StoreFixtures.app("/web", version: 2, instances: 5)
            try await store.saveApp(scaled)
            scaled.cmd = "sleep 2000"
            try await store.saveApp(scaled)

            // Then
            #expect(try await store.loadApps() == [scaled])
            #expect(try await store.appVersions(id: "/web") == [StoreFixtures.version(2), StoreFixtures.version(1)])
            #expect(try await store.appVersion(id: "/web", version: StoreFixtures.version(2)) == scaled)
        }
    }

    static func listsVersionsNewestFirst(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given: versions saved out of order, the last save being an older version
            for n in [10, 30, 20] {
                try await store.saveApp(StoreFixtures.app("/web", version: n, instances: n))
            }
            try await store.saveApp(StoreFixtures.app("/other", version: 99))

            // When
            let versions = try await store.appVersions(id: "/web")

            // Then: newest first, and the current definition is the one saved last
            #expect(versions == [30, 20, 10].map { StoreFixtures.version($0) })
            #expect(try await store.loadApps().first { $0.id == "/web" }?.instances == 20)
            #expect(try await store.appVersions(id: "/unknown") == [])
        }
    }

    static func keepsNewestVersionsAndRunningOnes(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given: an instance still running version 1 of /web
            let limit = SchedulerStoreLimits.maximumVersionsPerApp
            try await store.saveApp(StoreFixtures.app("/web", version: 1))
            try await store.saveInstances([StoreFixtures.instance(1)])

            // When: many more versions are saved
            for n in 2...(limit + 20) {
                try await store.saveApp(StoreFixtures.app("/web", version: n))
            }

            // Then: the newest `limit` versions are kept, plus version 1, which the instance runs
            let versions = try await store.appVersions(id: "/web")
            let newest = ((limit + 20 - limit + 1)...(limit + 20)).reversed().map { StoreFixtures.version($0) }
            #expect(versions == newest + [StoreFixtures.version(1)])
            #expect(try await store.appVersion(id: "/web", version: StoreFixtures.version(1)) != nil)
            #expect(try await store.appVersion(id: "/web", version: StoreFixtures.version(2)) == nil)
        }
    }

    static func looksUpOneVersion(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given
            let first = StoreFixtures.app("/web", version: 1, instances: 1)
            let second = StoreFixtures.app("/web", version: 2, instances: 3)
            try await store.saveApp(first)
            try await store.saveApp(second)

            // Then
            #expect(try await store.appVersion(id: "/web", version: StoreFixtures.version(1)) == first)
            #expect(try await store.appVersion(id: "/web", version: StoreFixtures.version(2)) == second)
            #expect(try await store.appVersion(id: "/web", version: StoreFixtures.version(3)) == nil)
            #expect(try await store.appVersion(id: "/unknown", version: StoreFixtures.version(1)) == nil)
        }
    }

    static func rejectsAppWithoutVersion(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given
            var app = StoreFixtures.app("/web")
            app.version = nil

            // When / Then
            await #expect(throws: (any Error).self) { try await store.saveApp(app) }
            app.version = ""
            await #expect(throws: (any Error).self) { try await store.saveApp(app) }
            #expect(try await store.loadApps().isEmpty)
            #expect(try await store.appVersions(id: "/web").isEmpty)
        }
    }

    static func rejectsAppThatCannotBeEncoded(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given: JSON has no NaN
            let good = StoreFixtures.app("/web", version: 1)
            try await store.saveApp(good)
            var bad = StoreFixtures.app("/web", version: 2)
            bad.cpus = .nan

            // When / Then: the failed save changes nothing
            await #expect(throws: (any Error).self) { try await store.saveApp(bad) }
            #expect(try await store.loadApps() == [good])
            #expect(try await store.appVersions(id: "/web") == [StoreFixtures.version(1)])
        }
    }

    static func deletingAppCascades(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given: two versions and two instances of /web, one instance of /api
            try await store.saveApp(StoreFixtures.app("/web", version: 1))
            try await store.saveApp(StoreFixtures.app("/web", version: 2))
            let api = StoreFixtures.app("/api", version: 1)
            try await store.saveApp(api)
            let apiInstance = StoreFixtures.instance(3, app: "/api")
            try await store.saveInstances([
                StoreFixtures.instance(1, app: "/web"), StoreFixtures.instance(2, app: "/web"), apiInstance,
            ])

            // When
            try await store.deleteApp(id: "/web")
            try await store.deleteApp(id: "/never-existed")

            // Then
            #expect(try await store.loadApps() == [api])
            #expect(try await store.appVersions(id: "/web").isEmpty)
            #expect(try await store.appVersion(id: "/web", version: StoreFixtures.version(1)) == nil)
            #expect(try await store.loadInstances() == [apiInstance])
            #expect(try await store.appVersions(id: "/api") == [StoreFixtures.version(1)])
        }
    }

    // MARK: Instances

    static func upsertsInstancesInOneBatch(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given
            let first = (1...3).map { StoreFixtures.instance($0, state: .staging) }
            try await store.saveInstances(first)
            try await store.saveInstances([])

            // When: one update, one new instance, and an id given twice (the later entry wins)
            var updated = first[1]
            updated.state = .running
            updated.startedAt = StoreFixtures.version(50)
            updated.killRequested = true
            updated.message = "scaled down"
            let added = StoreFixtures.instance(4, app: "/api")
            var twiceOld = StoreFixtures.instance(5)
            twiceOld.message = "old"
            var twiceNew = twiceOld
            twiceNew.message = "new"
            try await store.saveInstances([twiceOld, updated, added, twiceNew])

            // Then: sorted by id, all fields kept
            let loaded = try await store.loadInstances()
            #expect(loaded == [first[0], updated, first[2], added, twiceNew].sorted { $0.id < $1.id })
        }
    }

    static func deletesInstancesByID(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given
            let instances = (1...4).map { StoreFixtures.instance($0) }
            try await store.saveInstances(instances)

            // When
            try await store.deleteInstances(ids: [instances[0].id, "no-such-instance", instances[2].id])
            try await store.deleteInstances(ids: [])

            // Then
            #expect(try await store.loadInstances() == [instances[1], instances[3]])
        }
    }

    // MARK: Framework id

    static func storesFrameworkID(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            #expect(try await store.frameworkID() == nil)
            try await store.setFrameworkID(FrameworkID("f-1"))
            #expect(try await store.frameworkID() == FrameworkID("f-1"))
            try await store.setFrameworkID(FrameworkID("f-2"))
            #expect(try await store.frameworkID() == FrameworkID("f-2"))
        }
    }

    static func deployment(_ n: Int, app: String = "/web", action: String = "StartApplication") -> Deployment {
        Deployment(id: "d-\(String(format: "%04d", n))", appId: app, version: StoreFixtures.version(n), action: action)
    }

    static func upsertsAndDeletesDeployments(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            #expect(try await store.loadDeployments().isEmpty)
            // Given: three deployments, saved out of order
            let (first, second, third) = (deployment(1), deployment(2, app: "/db"), deployment(3, app: "/api"))
            try await store.updateDeployments(DeploymentChanges(upserts: [third, first, second]))
            #expect(try await store.loadDeployments() == [first, second, third])

            // When: one replaced, one deleted, an unknown id deleted; the third is not named
            var scaled = second
            scaled.action = "ScaleApplication"
            try await store.updateDeployments(DeploymentChanges(upserts: [scaled], deletes: [first.id, "d-unknown"]))

            // Then: only the named ones changed
            #expect(try await store.loadDeployments() == [scaled, third])

            // When: an id given twice (the later wins), and an id both deleted and upserted (stored)
            var restarted = third
            restarted.action = "RestartApplication"
            let fourth = deployment(4)
            try await store.updateDeployments(
                DeploymentChanges(upserts: [fourth, third, restarted], deletes: [restarted.id, scaled.id])
            )
            try await store.updateDeployments(DeploymentChanges())

            // Then
            #expect(try await store.loadDeployments() == [restarted, fourth])
            try await store.updateDeployments(DeploymentChanges(deletes: [restarted.id, fourth.id]))
            #expect(try await store.loadDeployments().isEmpty)
        }
    }

    static func savesAppWithDeployments(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given: /web being deployed, and a deployment of another app
            let web = StoreFixtures.app("/web", version: 1)
            let started = deployment(1)
            let other = deployment(2, app: "/db")
            try await store.saveApp(web, deployments: DeploymentChanges(upserts: [started, other]))
            #expect(try await store.loadApps() == [web])
            #expect(try await store.loadDeployments() == [started, other])

            // When: a new version replaces the app's deployment in the same call
            let scaled = StoreFixtures.app("/web", version: 2, instances: 5)
            let scaling = deployment(3, action: "ScaleApplication")
            try await store.saveApp(scaled, deployments: DeploymentChanges(upserts: [scaling], deletes: [started.id]))

            // Then
            #expect(try await store.loadApps() == [scaled])
            #expect(try await store.appVersions(id: "/web") == [StoreFixtures.version(2), StoreFixtures.version(1)])
            #expect(try await store.loadDeployments() == [other, scaling])

            // The plain save leaves the deployments alone.
            try await store.saveApp(StoreFixtures.app("/web", version: 3))
            #expect(try await store.loadDeployments() == [other, scaling])
        }
    }

    static func failedAppSaveChangesNoDeployment(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given
            let web = StoreFixtures.app("/web", version: 1)
            let started = deployment(1)
            try await store.saveApp(web, deployments: DeploymentChanges(upserts: [started]))

            // When: the app cannot be stored (JSON has no NaN)
            var bad = StoreFixtures.app("/web", version: 2)
            bad.cpus = .nan
            let changes = DeploymentChanges(upserts: [deployment(2)], deletes: [started.id])
            await #expect(throws: (any Error).self) { try await store.saveApp(bad, deployments: changes) }

            // Then: neither the app nor the deployments changed
            #expect(try await store.loadApps() == [web])
            #expect(try await store.loadDeployments() == [started])

            // When: the app is fine but a deployment may not be storable (a NUL character, which PostgreSQL's
            // text refuses after the app's statement ran): either all of it is stored or none of it
            let next = StoreFixtures.app("/web", version: 3)
            let odd = Deployment(id: "d-\u{0}", appId: "/web", version: next.version!, action: "RestartApplication")
            do {
                try await store.saveApp(next, deployments: DeploymentChanges(upserts: [odd], deletes: [started.id]))
                FileHandle.standardError.write(Data("[\(storage.name)] a deployment id with NUL: stored\n".utf8))
                #expect(try await store.loadApps() == [next])
                #expect(try await store.loadDeployments() == [odd])
            } catch {
                FileHandle.standardError.write(
                    Data("[\(storage.name)] a deployment id with NUL: refused, rolled back\n".utf8)
                )
                #expect(try await store.loadApps() == [web])
                #expect(try await store.appVersions(id: "/web") == [StoreFixtures.version(1)])
                #expect(try await store.loadDeployments() == [started])
            }
        }
    }

    static func deletesAppWithDeployments(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given: /web with an instance and a deployment, /db with a deployment
            let db = StoreFixtures.app("/db", version: 1)
            try await store.saveApp(
                StoreFixtures.app("/web", version: 1),
                deployments: DeploymentChanges(upserts: [deployment(1)])
            )
            try await store.saveApp(db, deployments: DeploymentChanges(upserts: [deployment(2, app: "/db")]))
            try await store.saveInstances([StoreFixtures.instance(1, app: "/web")])

            // When: /web is deleted, its deployment replaced by a stop deployment in the same call
            let stop = deployment(3, action: "StopApplication")
            try await store.deleteApp(
                id: "/web",
                deployments: DeploymentChanges(upserts: [stop], deletes: [deployment(1).id])
            )

            // Then
            #expect(try await store.loadApps() == [db])
            #expect(try await store.loadInstances().isEmpty)
            #expect(try await store.loadDeployments() == [deployment(2, app: "/db"), stop])

            // The plain delete leaves the deployments alone (the stop deployment outlives its app).
            try await store.deleteApp(id: "/db")
            #expect(try await store.loadDeployments() == [deployment(2, app: "/db"), stop])
        }
    }

    static func updatesThousandDeployments(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            let deployments = (1...1000).map { deployment($0, app: "/app-\($0)") }
            try await store.updateDeployments(DeploymentChanges(upserts: deployments))
            #expect(try await store.loadDeployments() == deployments)
            try await store.updateDeployments(DeploymentChanges(deletes: deployments.prefix(999).map(\.id)))
            #expect(try await store.loadDeployments() == [deployments[999]])
        }
    }

    // MARK: Migrations and restarts

    static func migratingAgainChangesNothing(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given: a migrated store with data
            let app = StoreFixtures.app("/web")
            try await store.saveApp(app)
            try await store.saveInstances([StoreFixtures.instance(1)])

            // When
            try await store.migrate()
            try await store.migrate()

            // Then
            #expect(try await store.loadApps() == [app])
            #expect(try await store.loadInstances() == [StoreFixtures.instance(1)])
        }
    }

    static func reopeningLosesNothing(_ storage: any StoreStorage) async throws {
        // Given: a store that saved everything it can hold, then closed
        let apps = [StoreFixtures.app("/api", version: 1), StoreFixtures.app("/web", version: 2)]
        let oldWeb = StoreFixtures.app("/web", version: 1, instances: 7)
        let instances = (1...5).map { StoreFixtures.instance($0, app: $0 % 2 == 0 ? "/api" : "/web") }
        try await storage.withStore { store async throws in
            try await store.saveApp(oldWeb)
            for app in apps {
                try await store.saveApp(app)
            }
            try await store.saveInstances(instances)
            try await store.setFrameworkID(FrameworkID("framework-1"))
            try await store.updateDeployments(DeploymentChanges(upserts: [deployment(2), deployment(1, app: "/api")]))
        }

        // When: a new store opens the same storage (a scheduler restart)
        try await storage.withStore { store async throws in
            // Then
            #expect(try await store.loadApps() == apps)
            #expect(try await store.appVersions(id: "/web") == [StoreFixtures.version(2), StoreFixtures.version(1)])
            #expect(try await store.appVersion(id: "/web", version: StoreFixtures.version(1)) == oldWeb)
            #expect(try await store.loadInstances() == instances.sorted { $0.id < $1.id })
            #expect(try await store.frameworkID() == FrameworkID("framework-1"))
            #expect(try await store.loadDeployments() == [deployment(1, app: "/api"), deployment(2)])
        }
    }

    static func servesConcurrentCalls(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // When: many callers write at once
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<20 {
                    group.addTask {
                        try await store.saveApp(StoreFixtures.app("/app-\(String(format: "%02d", n))"))
                        try await store.saveInstances([StoreFixtures.instance(n)])
                    }
                }
                try await group.waitForAll()
            }

            // Then: every write landed
            #expect(try await store.loadApps().count == 20)
            #expect(try await store.loadInstances().count == 20)
        }
    }

    static func savesThousandInstancesInOneCall(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            // Given
            let instances = (1...1000).map { StoreFixtures.instance($0, app: "/app-\($0 % 10)") }

            // When
            let clock = ContinuousClock()
            let inserted = try await clock.measure { try await store.saveInstances(instances) }
            var updatedInstances = instances
            for index in updatedInstances.indices {
                updatedInstances[index].healthy = false
            }
            let updated = try await clock.measure { try await store.saveInstances(updatedInstances) }

            // Then
            // stderr is unbuffered, so the measurement shows up even in captured test output.
            let report = "[\(storage.name)] saveInstances of 1,000 instances: insert \(inserted), update \(updated)\n"
            FileHandle.standardError.write(Data(report.utf8))
            #expect(try await store.loadInstances() == updatedInstances.sorted { $0.id < $1.id })
        }
    }

    // MARK: Fencing

    static func claimsGrowingEpochs(_ storage: any StoreStorage) async throws {
        try await storage.withStore { store async throws in
            #expect(try await store.leadershipEpoch() == nil)
            try await store.claimLeadership(epoch: 3)
            try await store.claimLeadership(epoch: 3)
            #expect(try await store.leadershipEpoch() == 3)
            try await store.claimLeadership(epoch: 10)
            #expect(try await store.leadershipEpoch() == 10)
            await #expect(throws: LeadershipFencedError(ownEpoch: 9, storedEpoch: 10)) {
                try await store.claimLeadership(epoch: 9)
            }
            #expect(try await store.leadershipEpoch() == 10)
        }
        // The epoch survives a restart.
        try await storage.withStore { store async throws in
            #expect(try await store.leadershipEpoch() == 10)
        }
    }

    static func refusesWritesOfLowerEpoch(_ storage: any StoreStorage) async throws {
        // Given: the old leader (epoch 5) wrote an app, instances, a framework id and a deployment
        let app = StoreFixtures.app("/web", version: 1)
        let instances = [StoreFixtures.instance(1), StoreFixtures.instance(2)]
        let deployment = Deployment(id: "d-1", appId: "/web", version: app.version!, action: "StartApplication")
        try await storage.withStore { old async throws in
            try await old.claimLeadership(epoch: 5)
            try await old.saveApp(app)
            try await old.saveInstances(instances)
            try await old.setFrameworkID(FrameworkID("framework-1"))
            try await old.updateDeployments(DeploymentChanges(upserts: [deployment]))

            // When: a new leader (another process on the same data) takes over with epoch 7
            try await storage.withStore { new async throws in
                try await new.claimLeadership(epoch: 7)

                // Then: every write of the old leader is refused
                let fenced = LeadershipFencedError(ownEpoch: 5, storedEpoch: 7)
                await #expect(throws: fenced) { try await old.saveApp(StoreFixtures.app("/web", version: 2)) }
                await #expect(throws: fenced) { try await old.saveApp(StoreFixtures.app("/other")) }
                await #expect(throws: fenced) { try await old.deleteApp(id: "/web") }
                await #expect(throws: fenced) { try await old.saveInstances([StoreFixtures.instance(3)]) }
                await #expect(throws: fenced) { try await old.deleteInstances(ids: [instances[0].id]) }
                await #expect(throws: fenced) { try await old.setFrameworkID(FrameworkID("framework-2")) }
                await #expect(throws: fenced) {
                    try await old.updateDeployments(DeploymentChanges(deletes: [deployment.id]))
                }
                await #expect(throws: fenced) {
                    try await old.updateDeployments(DeploymentChanges(upserts: [Self.deployment(9)]))
                }
                await #expect(throws: fenced) {
                    try await old.saveApp(
                        StoreFixtures.app("/web", version: 2),
                        deployments: DeploymentChanges(upserts: [Self.deployment(9)], deletes: [deployment.id])
                    )
                }
                await #expect(throws: fenced) {
                    try await old.deleteApp(
                        id: "/web",
                        deployments: DeploymentChanges(upserts: [Self.deployment(9)], deletes: [deployment.id])
                    )
                }
                await #expect(throws: LeadershipFencedError(ownEpoch: 6, storedEpoch: 7)) {
                    try await old.claimLeadership(epoch: 6)
                }

                // and nothing changed, as both stores see it
                for store in [old, new] {
                    #expect(try await store.loadApps() == [app])
                    #expect(try await store.appVersions(id: "/web") == [app.version!])
                    #expect(try await store.loadInstances() == instances)
                    #expect(try await store.frameworkID() == FrameworkID("framework-1"))
                    #expect(try await store.loadDeployments() == [deployment])
                    #expect(try await store.leadershipEpoch() == 7)
                }

                // while the new leader writes as usual
                try await new.deleteInstances(ids: [instances[0].id])
                try await new.updateDeployments(DeploymentChanges(deletes: [deployment.id]))
                #expect(try await new.loadInstances() == [instances[1]])
                #expect(try await new.loadDeployments().isEmpty)
            }
        }
    }
}
