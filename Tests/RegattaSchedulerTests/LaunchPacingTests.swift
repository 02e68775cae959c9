// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// Flow control of launches: a round's launches are spread over its offers, and no more than
/// `maxLaunchesInFlight` instances are launched and not yet running at once.
@Suite struct LaunchPacingTests {
    struct Harness {
        var state: SchedulerState
        var uuid = 0
        var clock = Duration.zero

        init(maxLaunchesInFlight: Int = 2000, maxInstancesPerOffer: Int = 100) {
            var configuration = SchedulerState.Configuration()
            configuration.maxLaunchesInFlight = maxLaunchesInFlight
            configuration.maxInstancesPerOffer = maxInstancesPerOffer
            self.state = SchedulerState(configuration: configuration)
        }

        mutating func add(_ app: AppDefinition) {
            let (prepared, action) = self.state.prepare(app, timestamp: "2027-01-01T00:00:00.000Z")
            self.state.commit(
                prepared,
                deployment: Deployment(id: "d-\(app.id)", appId: app.id, version: prepared.version!, action: action)
            )
        }

        mutating func offer(_ offers: [Offer]) -> (launches: [PlannedLaunch], unused: [OfferID]) {
            var counter = self.uuid
            defer { self.uuid = counter }
            return self.state.match(offers: offers, now: self.clock, timestamp: "2027-01-01T00:00:01.000Z") {
                counter += 1
                return "u\(counter)"
            }
        }

        mutating func update(_ task: TaskID, _ state: TaskState) {
            _ = self.state.update(
                TaskStatus(taskId: task, state: state),
                now: self.clock,
                timestamp: "2027-01-01T00:00:02.000Z"
            )
        }
    }

    static func offers(_ count: Int) -> [Offer] {
        (1...count).map { Fixture.offer("o\($0)", agent: "a\($0)", hostname: "h\($0)") }
    }

    @Test func aRoundIsSpreadOverItsOffers() {
        var h = Harness()
        h.add(Fixture.app(instances: 10, cpus: 0.01, memMB: 8, ports: 0))
        let (launches, unused) = h.offer(Self.offers(4))
        // ⌈10 ÷ 4⌉ = 3 per offer: 3, 3, 3, 1 — not 10 on the first offer.
        #expect(launches.map(\.tasks.count) == [3, 3, 3, 1])
        #expect(unused.isEmpty)
        #expect(h.state.launchesInFlight == 10)
    }

    @Test func maxInstancesPerOfferStillCapsAnOffer() {
        var h = Harness(maxInstancesPerOffer: 2)
        h.add(Fixture.app(instances: 10, cpus: 0.01, memMB: 8, ports: 0))
        let (launches, _) = h.offer(Self.offers(3))
        #expect(launches.map(\.tasks.count) == [2, 2, 2])
    }

    @Test func launchesWaitWhileTheWindowIsFullAndResumeAsInstancesRun() throws {
        var h = Harness(maxLaunchesInFlight: 5)
        h.add(Fixture.app(instances: 12, cpus: 0.01, memMB: 8, ports: 0))
        let first = h.offer(Self.offers(2))
        #expect(first.launches.flatMap(\.tasks).count == 5, "the window holds 5")
        #expect(h.state.launchesInFlight == 5)

        let full = h.offer([Fixture.offer("o9", agent: "a9", hostname: "h9")])
        #expect(full.launches.isEmpty, "nothing more while 5 are in flight")
        #expect(full.unused == [OfferID("o9")])
        #expect(h.state.hasPendingLaunches, "instances still wait: offers are declined as unfit, not idle")

        // STARTING still holds a slot; RUNNING and an end free it.
        let tasks = first.launches.flatMap(\.tasks).map(\.taskId)
        h.update(tasks[0], .starting)
        #expect(h.state.launchesInFlight == 5)
        h.update(tasks[0], .running)
        h.update(tasks[1], .running)
        h.update(tasks[2], .failed)
        #expect(h.state.launchesInFlight == 2)

        // Three slots: two for the still-waiting instances plus one to replace the failed task (after its backoff).
        h.clock += .seconds(10)
        let second = h.offer(Self.offers(3))
        #expect(second.launches.flatMap(\.tasks).count == 3)
        #expect(h.state.launchesInFlight == 5)
    }

    @Test func offersDeclinedWhileTheWindowIsFullComeBackAfterOneInterval() async throws {
        var configuration = ServiceScheduler.Configuration()
        configuration.state.maxLaunchesInFlight = 2
        let h = try await ShellHarness(configuration: configuration)
        _ = try await h.scheduler.createApp(Fixture.app(instances: 5, cpus: 0.01, memMB: 8, ports: 0))
        await h.scheduler.handle(.event(.offers([Fixture.offer("o1")])))
        await h.scheduler.settle()
        #expect(h.master.launched.count == 2)
        // Full window: the next offer is declined with the short refusal, not the 5 s one for unfit offers.
        await h.scheduler.handle(.event(.offers([Fixture.offer("o2", agent: "a2", hostname: "h2")])))
        await h.scheduler.settle()
        #expect(h.master.calls(.decline).last?.decline?.filters?.refuseSeconds == 1)
        // A running instance frees a slot: the next offer launches one.
        await h.update(h.master.launched[0].taskId, .running)
        await h.scheduler.handle(.event(.offers([Fixture.offer("o3", agent: "a3", hostname: "h3")])))
        await h.scheduler.settle()
        #expect(h.master.launched.count == 3)
    }

    @Test func rollbackFreesTheSlotsOfInstancesThatWereNotStored() {
        var h = Harness(maxLaunchesInFlight: 4)
        h.add(Fixture.app(instances: 4, cpus: 0.01, memMB: 8, ports: 0))
        let (launches, _) = h.offer(Self.offers(1))
        #expect(h.state.launchesInFlight == 4)
        h.state.rollback(launches.flatMap(\.instances))
        #expect(h.state.launchesInFlight == 0)
        #expect(h.offer(Self.offers(1)).launches.flatMap(\.tasks).count == 4)
    }

    @Test func loadingCountsStoredInstancesThatAreNotRunningYet() {
        var h = Harness(maxLaunchesInFlight: 3)
        let app = Fixture.app(instances: 5, cpus: 0.01, memMB: 8, ports: 0)
        h.add(app)
        let (launches, _) = h.offer(Self.offers(1))
        h.update(launches[0].tasks[0].taskId, .running)
        let stored = Array(h.state.instances.values)

        var restarted = Harness(maxLaunchesInFlight: 3)
        restarted.state.load(apps: Array(h.state.apps.values), instances: stored)
        #expect(restarted.state.launchesInFlight == 2, "two of the three stored are still staging")
        #expect(restarted.offer(Self.offers(2)).launches.flatMap(\.tasks).count == 1)
    }
}
