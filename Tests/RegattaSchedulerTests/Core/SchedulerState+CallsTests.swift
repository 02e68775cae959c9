// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// Calls to the master: one batch at a time in the order decided, answers wait only for the calls of their own call.
@Suite struct SchedulerStateCallsTests {
    @Test func aKillWaitsForTheAcceptThatLaunchedItsTask() throws {
        // Given an ACCEPT being sent
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 1))
        m.handle(.connection(.event(.offers([Fixture.offer()]))))
        m.finishWrite()
        #expect(m.batch?.calls.map(\.type) == [.accept])
        // When the app is deleted meanwhile
        let id = m.command(.deleteApp("/web", force: true))
        m.finishWrite()
        // Then its KILL waits behind the ACCEPT, and so does the answer
        #expect(m.calls(.kill).isEmpty)
        #expect(m.replies[id] == nil)
        m.finishCalls()
        m.settle()
        let order: [SchedulerCall.CallType] = m.calls.map(\.type).filter { $0 == .accept || $0 == .kill }
        #expect(order == [.accept, .kill])
        #expect(m.replies[id] != nil)
    }

    /// The sequence seed 10715761898262355084 of the simulation found: an ACCEPT queued behind other calls, then the
    /// app removed (its new-app deployment cancelled) and the removal written, which drops the instance's record.
    @Test func aRemovalWithdrawsTheLaunchesOfItsAppStillQueued() throws {
        // Given an ACCEPT queued behind a RECONCILE being sent
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(id: "/batch", instances: 1, ports: 0))
        m.advance(by: m.state.configuration.reconciliationInterval)
        #expect(m.batch?.calls.map(\.type) == [.reconcile])
        m.handle(.connection(.event(.offers([Fixture.offer("o1")]))))
        m.finishWrite()
        #expect(m.calls(.accept).isEmpty)
        let instance = try #require(m.state.instances(ofApp: "/batch").first)
        // When the app's deployment is cancelled, which removes the new app, and the removal is written
        let deployment = try #require(m.state.deployments(ofApp: "/batch").first)
        let id = m.command(.cancelDeployment(deployment.id, force: false, previous: nil))
        guard case .deleteApp("/batch", _) = try #require(m.write?.writes.first) else {
            Issue.record("expected the app's removal to be written")
            return
        }
        m.settle()
        // Then the launch never goes out: the offer is declined instead, the instance is forgotten, nothing is killed
        #expect(m.calls(.accept).isEmpty)
        #expect(m.calls(.decline).flatMap { $0.decline?.offerIds ?? [] } == ["o1"])
        #expect(m.calls(.kill).isEmpty)
        #expect(m.state.instance(forTask: instance.taskId) == nil)
        #expect(m.state.launchesInFlight == 0)
        #expect(m.state.deployments.isEmpty)
        #expect(m.replies[id] != nil)
        // and no write follows: the removal dropped the instance's record already
        #expect(m.writes.last?.contains { if case .deleteApp = $0 { true } else { false } } == true)
    }

    @Test func aRemovalWaitsForAnAcceptBeingSentThatLaunchesItsApp() throws {
        // Given an ACCEPT being sent
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 1))
        m.handle(.connection(.event(.offers([Fixture.offer()]))))
        m.finishWrite()
        #expect(m.batch?.calls.map(\.type) == [.accept])
        // When the app is deleted meanwhile
        m.command(.deleteApp("/web", force: true))
        // Then the removal (which drops the instance's record) is written only once the ACCEPT is sent
        #expect(m.write == nil)
        m.finishCalls()
        guard case .deleteApp("/web", _) = try #require(m.write?.writes.first) else {
            Issue.record("expected the app's removal to be written")
            return
        }
    }

    @Test func anAppRemovedWithdrawsOnlyItsOwnLaunchesFromAnAccept() throws {
        // Given one ACCEPT queued that launches instances of two apps
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(id: "/web", instances: 1))
        m.createApp(Fixture.app(id: "/batch", instances: 1, ports: 0))
        m.advance(by: m.state.configuration.reconciliationInterval)
        m.handle(.connection(.event(.offers([Fixture.offer("o1")]))))
        m.finishWrite()
        let web = try #require(m.state.instances(ofApp: "/web").first)
        // When /batch is deleted
        m.command(.deleteApp("/batch", force: true))
        m.settle()
        // Then the ACCEPT of the offer launches /web alone
        let launched = m.calls(.accept).flatMap { $0.accept?.operations ?? [] }.flatMap { $0.launch?.taskInfos ?? [] }
        #expect(launched.map(\.taskId) == [web.taskId])
        #expect(m.calls(.decline).isEmpty)
        #expect(m.state.instances.count == 1)
    }

    @Test func anAnswerDoesNotWaitForCallsItDidNotQueue() throws {
        // Given acknowledgements being sent
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(id: "/big", instances: 1, cpus: 64))
        m.createApp(Fixture.app(id: "/web", instances: 1))
        let task = try #require(m.offer([Fixture.offer()]).first)
        m.handle(
            .connection(.event(.update(TaskStatus(taskId: task.taskId, state: .running, agentId: "a1", uuid: "u"))))
        )
        m.finishWrite()
        #expect(m.batch?.calls.map(\.type) == [.acknowledge])
        // When an app is created (offers stay revived: /big waits), its answer comes once written
        let id = m.command(.createApp(Fixture.app(id: "/db")))
        while m.write != nil && m.replies[id] == nil { m.finishWrite() }
        #expect(m.replies[id] != nil)
        #expect(m.batch?.calls.map(\.type) == [.acknowledge])
    }
}
