// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// API commands: answered once written, refused without a write when they cannot apply, unchanged by a failed write.
@Suite struct SchedulerStateCommandsTests {
    @Test func anAppIsRecordedOnlyOnceWrittenAndAFailedWriteChangesNothing() {
        var m = MachineDriver()
        m.subscribe()
        let failed = m.command(.createApp(Fixture.app()))
        #expect(m.state.apps.isEmpty, "nothing before the write")
        m.finishWrite(failing: true)
        #expect(throws: SchedulerError.self) { try m.replies[failed]?.get() }
        #expect(m.state.apps.isEmpty)
        #expect(m.state.deployments.isEmpty)
        let created = m.command(.createApp(Fixture.app()))
        m.settle()
        #expect((try? m.replies[created]?.get()) != nil)
        #expect(m.state.apps.count == 1)
    }

    @Test func refusalsNeedNoWrite() {
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 2))
        let writes = m.writes.count
        let exists = m.command(.createApp(Fixture.app()))
        let locked = m.command(.putApp(Fixture.app(instances: 3), force: false))
        let missing = m.command(.deleteApp("/nope", force: true))
        let noTask = m.command(.killTasks(appId: "/web", taskIDs: ["nope"], host: nil, scale: false, force: false))
        for (id, code) in [
            (exists, SchedulerError.Code.appExists), (locked, .appLocked), (missing, .appNotFound),
            (noTask, .taskNotFound),
        ] {
            #expect(throws: SchedulerError.self) { try m.replies[id]?.get() }
            if case .failure(let error)? = m.replies[id] { #expect(error.code == code) }
        }
        #expect(m.writes.count == writes)
    }

    @Test func killingWithScaleKillsExactlyTheNamedTasks() throws {
        // Given three running instances
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 3, cpus: 0.1, ports: 0))
        let tasks = m.offer([Fixture.offer(cpus: 4)]).map(\.taskId)
        for task in tasks { m.update(task, .running, uuid: "u-\(task)") }
        let killsBefore = m.calls(.kill).count
        // When one is killed with scale
        let id = m.command(.killTasks(appId: "/web", taskIDs: [tasks[1]], host: nil, scale: true, force: true))
        m.settle()
        // Then the app shrinks to 2 and only that task is killed, not another one picked for the smaller app
        guard case .success(.killed(let killed, let deployment?)) = m.replies[id] else {
            Issue.record("expected the killed instance and the scale deployment")
            return
        }
        #expect(killed.map(\.taskId) == [tasks[1]])
        let allMarked = killed.allSatisfy(\.killRequested)
        #expect(allMarked)
        #expect(deployment.action == "ScaleApplication")
        #expect(m.state.apps["/web"]?.instances == 2)
        #expect(m.calls(.kill)[killsBefore...].compactMap { $0.kill?.taskId } == [tasks[1]])
        // And its mark is written
        #expect(
            m.writes.flatMap { $0 }.contains { write in
                if case .saveInstances(let saved) = write {
                    saved.contains { $0.taskId == tasks[1] && $0.killRequested }
                } else {
                    false
                }
            }
        )
    }

    @Test func killingWithoutScaleReplacesTheTask() throws {
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 1))
        let task = try #require(m.offer([Fixture.offer()]).first)
        m.update(task.taskId, .running, uuid: "u")
        let id = m.command(.killTasks(appId: "/web", taskIDs: nil, host: nil, scale: false, force: false))
        m.settle()
        guard case .success(.killed(let killed, nil)) = m.replies[id] else {
            Issue.record("expected the killed instance")
            return
        }
        #expect(killed.map(\.killRequested) == [false])
        m.update(task.taskId, .killed, uuid: "k")
        #expect(m.offer([Fixture.offer("o2")]).count == 1, "replaced")
    }

    @Test func deletingAnAppKillsItsInstancesAfterTheWrite() throws {
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 2))
        let tasks = m.offer([Fixture.offer()]).map(\.taskId)
        let id = m.command(.deleteApp("/web", force: true))
        #expect(m.calls(.kill).isEmpty)
        m.settle()
        #expect(Set(m.calls(.kill).compactMap { $0.kill?.taskId }) == Set(tasks))
        guard case .success(.deployment(let stop?)) = m.replies[id] else {
            Issue.record("expected the stop deployment")
            return
        }
        #expect(m.state.deployments.keys.sorted() == [stop.id])
        for task in tasks { m.update(task, .killed, uuid: "k-\(task)") }
        #expect(m.state.deployments.isEmpty)
    }
}
