// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaSchedulerTestKit
import RegattaTestKit
import Testing

@testable import RegattaScheduler

/// What a deposed leader's scheduler does when the store fences it off, and how the master connection finds the
/// leading master.
@Suite struct LeadershipFencingTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func fencedWriteIsReportedOnceAndLaterWritesFailWithoutReachingTheStore() async throws {
        // Given: an old leader (epoch 1) and a new one (epoch 2) on the same data
        let data = InMemorySchedulerStore()
        let reports = Locked<[LeadershipFencedError]>([])
        let old = FencingObserverStore(InMemorySchedulerStore(sharingDataWith: data)) { error in
            reports.withLock { $0.append(error) }
        }
        let new = InMemorySchedulerStore(sharingDataWith: data)
        try await old.claimLeadership(epoch: 1)
        try await old.saveApp(Self.app("/before"))
        try await new.claimLeadership(epoch: 2)

        // When: the old leader writes twice
        await #expect(throws: LeadershipFencedError(ownEpoch: 1, storedEpoch: 2)) {
            try await old.saveApp(Self.app("/after"))
        }
        // (the second write fails from the recorded error, without a round trip to the store)
        await #expect(throws: LeadershipFencedError.self) { try await old.deleteApp(id: "/before") }

        // Then
        #expect(reports.value == [LeadershipFencedError(ownEpoch: 1, storedEpoch: 2)])
        #expect(old.fencingError == LeadershipFencedError(ownEpoch: 1, storedEpoch: 2))
        #expect(try await new.loadApps().map(\.id) == ["/before"])
    }

    @Test func deposedSchedulerChangesNothingAndLaunchesNothing() async throws {
        // Given: a scheduler leading with epoch 1 whose store another leader has since claimed with epoch 2
        let data = InMemorySchedulerStore()
        let master = FakeMasterConnection()
        let store = FencingObserverStore(InMemorySchedulerStore(sharingDataWith: data)) { _ in }
        try await store.claimLeadership(epoch: 1)
        let scheduler = ServiceScheduler.forTests(store: store, connection: master)
        try await scheduler.load()
        let running = RunningScheduler(scheduler)
        await scheduler.handle(.subscribed("fw"))
        try await InMemorySchedulerStore(sharingDataWith: data).claimLeadership(epoch: 2)
        master.reset()

        // When: an API call and an offer arrive at the deposed scheduler
        await #expect(throws: SchedulerError.self) { _ = try await scheduler.createApp(Self.app("/web")) }
        await scheduler.handle(.event(.offers([Fixture.offer(framework: "fw")])))

        // Then: nothing was stored, and nothing was sent to the master after the fencing (the scheduler stopped
        // itself: no gate in front of the connection is needed)
        #expect(try await data.loadApps().isEmpty)
        #expect(try await data.loadInstances().isEmpty)
        #expect(master.calls.isEmpty)
        await #expect(throws: SchedulerError.self) { _ = try await scheduler.createApp(Self.app("/later")) }
        await running.stop()
    }

    @Test func masterLocationsNameTheLeader() {
        #expect(
            HTTPMasterConnection.master(fromLocation: "//127.0.0.1:5051/api/v1/scheduler") == "http://127.0.0.1:5051"
        )
        #expect(
            HTTPMasterConnection.master(fromLocation: "http://10.0.0.2:5050/master/redirect") == "http://10.0.0.2:5050"
        )
        #expect(HTTPMasterConnection.master(fromLocation: "https://m:5050") == "https://m:5050")
        #expect(HTTPMasterConnection.master(fromLocation: "/relative") == nil)
        #expect(HTTPMasterConnection.baseURL("127.0.0.1:5050") == "http://127.0.0.1:5050")
        #expect(
            MasterConnections.redacted("zk://ops:secret@zk1:2181,zk2:2181/mesos")
                == "zk://ops:***@zk1:2181,zk2:2181/mesos"
        )
        #expect(MasterConnections.redacted("127.0.0.1:5050") == "127.0.0.1:5050")
    }

    static func app(_ id: String) -> AppDefinition {
        var app = AppDefinition(id: id, cmd: "sleep 100", cpus: 0.1, mem: 16, instances: 1)
        app.version = "2026-01-01T00:00:00.000Z"
        return app
    }
}
