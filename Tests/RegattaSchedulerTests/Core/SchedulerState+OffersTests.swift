// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// Offer rounds: ACCEPT only after the write of the instances, refusals that suit why an offer was unused, and
/// REVIVE/SUPPRESS as apps start and stop waiting.
@Suite struct SchedulerStateOffersTests {
    @Test func acceptIsEmittedOnlyWhenTheInstancesAreWritten() throws {
        // Given an app waiting for two instances
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 2))
        // When an offer arrives
        m.handle(.connection(.event(.offers([Fixture.offer("o1")]))))
        // Then the instances are written, and nothing is accepted yet
        let write = try #require(m.write)
        guard case .saveInstances(let instances) = try #require(write.writes.first) else {
            Issue.record("expected the instances to be written first")
            return
        }
        #expect(instances.count == 2)
        #expect(m.calls(.accept).isEmpty)
        // When the write finishes, the ACCEPT follows with exactly those tasks
        m.finishWrite()
        m.settle()
        let accepted = m.calls(.accept).flatMap { $0.accept?.operations ?? [] }.flatMap { $0.launch?.taskInfos ?? [] }
        #expect(Set(accepted.map(\.taskId)) == Set(instances.map(\.taskId)))
    }

    @Test func aFailedWriteForgetsTheInstancesAndDeclinesEveryOffer() {
        // Given an app waiting for one instance
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 1))
        // When its write fails
        m.handle(.connection(.event(.offers([Fixture.offer("o1"), Fixture.offer("o2", agent: "a2")]))))
        m.finishWrite(failing: true)
        m.settle()
        // Then nothing is launched, both offers are declined as unfit, and the instance waits again
        #expect(m.calls(.accept).isEmpty)
        #expect(m.calls(.decline).flatMap { $0.decline?.offerIds ?? [] }.sorted() == ["o1", "o2"])
        #expect(m.state.instances.isEmpty)
        #expect(m.state.launchesInFlight == 0)
        #expect(m.offer([Fixture.offer("o3")]).count == 1)
    }

    @Test func refusalsSuitWhyOffersWereUnused() {
        var configuration = SchedulerState.Configuration()
        configuration.maxLaunchesInFlight = 1
        var m = MachineDriver(configuration: configuration)
        m.subscribe()
        // Nothing waits: long refusal.
        m.offer([Fixture.offer("idle")])
        #expect(m.calls(.decline).last?.decline?.filters?.refuseSeconds == 120)
        // Something waits that does not fit: short refusal.
        m.createApp(Fixture.app(id: "/big", instances: 1, cpus: 64))
        m.offer([Fixture.offer("small")])
        #expect(m.calls(.decline).last?.decline?.filters?.refuseSeconds == 5)
        // The launch window is full: one allocation interval.
        m.createApp(Fixture.app(id: "/web", instances: 2))
        #expect(m.offer([Fixture.offer("first")]).count == 1)
        m.offer([Fixture.offer("second", agent: "a2")])
        #expect(m.calls(.decline).last?.decline?.filters?.refuseSeconds == 1)
    }

    @Test func offersAreRevivedWhileAppsWaitAndSuppressedOnceNoneDoes() throws {
        // Given a subscribed scheduler with nothing to run
        var m = MachineDriver()
        m.subscribe()
        #expect(m.calls.map(\.type).contains(.suppress))
        // When an app is created, offers are revived once
        m.createApp(Fixture.app(instances: 1))
        #expect(m.calls(.revive).count == 1)
        // When its instance runs, offers are suppressed again
        let task = try #require(m.offer([Fixture.offer()]).first)
        m.update(task.taskId, .running, uuid: "u")
        #expect(m.calls(.suppress).count == 2)
        #expect(m.calls(.revive).count == 1)
    }

    @Test func aFailedReviveIsSentAgainOnTheNextChange() {
        var m = MachineDriver()
        m.subscribe()
        // When the REVIVE of a new app fails
        let id = m.command(.createApp(Fixture.app(instances: 1)))
        m.finishWrite()
        #expect(m.batch?.calls.map(\.type) == [.revive])
        m.finishCalls(failures: ["connection reset"])
        #expect(m.replies[id] != nil)
        // Then the next change sends it again (which is in effect is unknown)
        m.advance(by: .seconds(1))
        m.settle()
        #expect(m.calls(.revive).count == 2)
    }

    @Test func anOfferRoundArrivingDuringAWriteJoinsTheNextRound() {
        // Given an app waiting for three instances and a round whose write is in flight
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 3, cpus: 1))
        m.handle(.connection(.event(.offers([Fixture.offer("o1", cpus: 1)]))))
        #expect(m.write != nil)
        // When two more offers arrive one after the other
        m.handle(.connection(.event(.offers([Fixture.offer("o2", agent: "a2", cpus: 1)]))))
        m.handle(.connection(.event(.offers([Fixture.offer("o3", agent: "a3", cpus: 1)]))))
        m.finishWrite()
        // Then they are matched as one round: one write for both
        guard case .saveInstances(let instances)? = m.write?.writes.first else {
            Issue.record("expected one write for the joined round")
            return
        }
        #expect(instances.count == 2)
        m.settle()
        #expect(m.calls(.accept).count == 3)
    }
}
