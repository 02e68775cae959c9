// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// KILLs with no answer are sent again after the retry interval, and none is sent while unsubscribed.
@Suite struct SchedulerStateKillsTests {
    /// `/web` with two running instances, scaled down to one: one KILL sent.
    static func scaledDown() -> (MachineDriver, TaskID) {
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 2, cpus: 0.1, ports: 0))
        for task in m.offer([Fixture.offer(cpus: 4)]) { m.update(task.taskId, .running, uuid: "u-\(task.taskId)") }
        m.command(.putApp(Fixture.app(instances: 1, cpus: 0.1, ports: 0), force: true))
        m.settle()
        let killed = m.calls(.kill).compactMap { $0.kill?.taskId }
        precondition(killed.count == 1)
        return (m, killed[0])
    }

    @Test func aKillWithNoAnswerIsSentAgainAfterTheRetryInterval() {
        var (m, task) = Self.scaledDown()
        m.advance(by: .seconds(9))
        m.settle()
        #expect(m.calls(.kill).count == 1, "not before killRetryInterval")
        m.advance(by: .seconds(1))
        m.settle()
        #expect(m.calls(.kill).compactMap { $0.kill?.taskId } == [task, task])
        // Once the task ends, nothing more.
        m.update(task, .killed, uuid: "k")
        m.advance(by: .seconds(20))
        m.settle()
        #expect(m.calls(.kill).count == 2)
    }

    @Test func noKillIsSentWhileUnsubscribedAndTheNextTickAfterSubscribingSendsIt() {
        // Given two running instances and a lost subscription
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 2, cpus: 0.1, ports: 0))
        for task in m.offer([Fixture.offer(cpus: 4)]) { m.update(task.taskId, .running, uuid: "u-\(task.taskId)") }
        m.handle(.connection(.disconnected(reason: "test")))
        // When the app is scaled down
        m.command(.putApp(Fixture.app(instances: 1, cpus: 0.1, ports: 0), force: true))
        m.settle()
        // Then no KILL goes out until subscribed again
        #expect(m.calls(.kill).isEmpty)
        m.subscribe()
        m.advance(by: .seconds(1))
        m.settle()
        #expect(m.calls(.kill).count == 1)
    }

    @Test func killsCarryTheAppsGracePeriod() throws {
        var m = MachineDriver()
        m.subscribe()
        var app = Fixture.app(instances: 1)
        app.taskKillGracePeriodSeconds = 7
        m.createApp(app)
        let task = try #require(m.offer([Fixture.offer()]).first)
        m.command(.killTasks(appId: "/web", taskIDs: [task.taskId], host: nil, scale: false, force: false))
        m.settle()
        #expect(m.calls(.kill).first?.kill?.killPolicy?.gracePeriod?.duration == .seconds(7))
    }
}
