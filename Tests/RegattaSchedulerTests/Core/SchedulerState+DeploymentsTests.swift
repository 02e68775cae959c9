// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// Deployments: resumed after a restart, finished when the target is reached, and cancelled (dropped, rolled back to
/// the previous version, or the new app removed).
@Suite struct SchedulerStateDeploymentsTests {
    static func stored(_ id: String, instances: Int, version: String = "2027-01-01T00:00:00.000Z") -> AppDefinition {
        var app = Fixture.app(id: id, instances: instances)
        app.version = version
        return app
    }

    @Test func resumingKeepsStoredPlansDropsThoseOfRemovedAppsAndRestartsUnconvergedApps() throws {
        // Given a store with /web (a plan in progress), /db (unconverged, its plan lost) and a plan of a removed app
        var m = MachineDriver()
        let web = Self.stored("/web", instances: 1)
        let db = Self.stored("/db", instances: 2)
        m.state.load(apps: [web, db], instances: [])
        let plan = Deployment(id: "d-web", appId: "/web", version: web.version!, action: "StartApplication")
        let orphan = Deployment(id: "d-gone", appId: "/gone", version: web.version!, action: "ScaleApplication")
        // When resuming
        let started = m.state.resumeDeployments([plan, orphan])
        // Then /web keeps its plan, /db gets a restart, and the next write deletes the orphan and stores the restart
        #expect(started.map(\.appId) == ["/db"])
        #expect(started.first?.action == "RestartApplication")
        #expect(Set(m.state.deployments.keys) == Set(["d-web", started[0].id]))
        m.subscribe()
        let changes = m.writes.flatMap { $0 }.compactMap { write -> DeploymentChanges? in
            if case .updateDeployments(let changes) = write { changes } else { nil }
        }
        #expect(changes == [DeploymentChanges(upserts: started, deletes: ["d-gone"])])
    }

    @Test func aFinishedDeploymentIsDeletedFromTheStore() throws {
        var m = MachineDriver()
        m.subscribe()
        let id = m.command(.createApp(Fixture.app(instances: 1)))
        m.settle()
        guard case .success(.app(_, let deployment, _)) = m.replies[id] else {
            Issue.record("not created")
            return
        }
        let task = try #require(m.offer([Fixture.offer()]).first)
        m.update(task.taskId, .running, uuid: "u")
        #expect(m.state.deployments.isEmpty)
        #expect(m.writes.last == [.updateDeployments(DeploymentChanges(deletes: [deployment.id]))])
        #expect(m.published.contains(.deploymentSuccess(deployment)))
    }

    @Test func aForcedCancelIsWrittenBeforeItIsDroppedAndAFailedOneKeepsIt() throws {
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 2))
        let deployment = try #require(m.state.deployments.values.first)
        // A failed write keeps it.
        let failed = m.command(.cancelDeployment(deployment.id, force: true, previous: nil))
        #expect(m.write?.writes == [.updateDeployments(DeploymentChanges(deletes: [deployment.id]))])
        m.finishWrite(failing: true)
        #expect(throws: SchedulerError.self) { try m.replies[failed]?.get() }
        #expect(m.state.deployments[deployment.id] != nil)
        // A written one drops it; the app stays.
        let cancelled = m.command(.cancelDeployment(deployment.id, force: true, previous: nil))
        m.settle()
        #expect(try m.replies[cancelled]?.get() == .deployment(nil))
        #expect(m.state.deployments.isEmpty)
        #expect(m.state.apps["/web"]?.instances == 2)
    }

    @Test func cancellingRollsBackToThePreviousVersionInANewDeployment() throws {
        // Given /web at 1 instance, then scaled to 3 (a deployment in progress)
        var m = MachineDriver()
        m.subscribe()
        let first = m.createApp(Fixture.app(instances: 1))
        var scaled = first
        scaled.instances = 3
        m.command(.putApp(scaled, force: true))
        m.settle()
        let scale = try #require(m.state.deployments.values.first)
        // When it is cancelled with the previous version
        let id = m.command(.cancelDeployment(scale.id, force: false, previous: first))
        m.settle()
        // Then the app is back at 1 instance in a new deployment replacing the cancelled one
        guard case .success(.deployment(let rollback?)) = m.replies[id] else {
            Issue.record("expected a rollback deployment, got \(String(describing: m.replies[id]))")
            return
        }
        #expect(rollback.id != scale.id)
        #expect(m.state.apps["/web"]?.instances == 1)
        #expect(m.state.deployments.keys.sorted() == [rollback.id])
        #expect(m.published.contains(.deploymentFailed(scale)))
    }

    @Test func cancellingTheDeploymentOfANewAppRemovesIt() throws {
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 2))
        let start = try #require(m.state.deployments.values.first)
        let id = m.command(.cancelDeployment(start.id, force: false, previous: nil))
        #expect(m.write?.writes.first.map { if case .deleteApp("/web", _) = $0 { true } else { false } } == true)
        m.settle()
        #expect(m.state.apps.isEmpty)
        guard case .success(.deployment(let stop?)) = m.replies[id] else {
            Issue.record("expected the stop deployment")
            return
        }
        #expect(stop.action == "StopApplication")
    }

    @Test func anUnknownDeploymentCannotBeCancelled() {
        var m = MachineDriver()
        m.subscribe()
        let id = m.command(.cancelDeployment("nope", force: true, previous: nil))
        #expect(throws: SchedulerError.self) { try m.replies[id]?.get() }
        #expect(m.write == nil)
    }
}
