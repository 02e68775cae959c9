// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// Status updates: batched into one write, acknowledged only once written, undone when the write fails.
@Suite struct SchedulerStateStatusUpdatesTests {
    /// A driver with `/web` launched on one offer (`count` tasks, staging).
    static func launched(_ count: Int) -> (MachineDriver, [TaskID]) {
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: count, cpus: 0.1, ports: 0))
        let tasks = m.offer([Fixture.offer(cpus: 4)]).map(\.taskId)
        return (m, tasks)
    }

    static func update(_ task: TaskID, _ state: TaskState, uuid: String) -> SchedulerState.Event {
        .connection(.event(.update(TaskStatus(taskId: task, state: state, agentId: "a1", uuid: uuid))))
    }

    @Test func updatesArrivingDuringAWriteAreWrittenTogetherAndAcknowledgedAfter() throws {
        // Given three launched tasks and the first one's update being written
        var (m, tasks) = Self.launched(3)
        m.handle(Self.update(tasks[0], .running, uuid: "u0"))
        let first = try #require(m.write)
        // When two more arrive meanwhile
        m.handle(Self.update(tasks[1], .running, uuid: "u1"))
        m.handle(Self.update(tasks[2], .running, uuid: "u2"))
        // Then nothing is acknowledged, and they wait for the next write
        #expect(m.calls(.acknowledge).isEmpty)
        #expect(m.state.instances.values.filter { $0.state == .running }.count == 1)
        #expect(m.write?.id == first.id)
        // When the first write finishes, the first is acknowledged and the two others are written together
        m.finishWrite()
        guard case .saveInstances(let second)? = m.write?.writes.first else {
            Issue.record("expected the second batch to be written")
            return
        }
        #expect(second.count == 2)
        m.settle()
        #expect(m.calls(.acknowledge).compactMap { $0.acknowledge?.uuid }.sorted() == ["u0", "u1", "u2"])
    }

    @Test func aFailedWriteIsUndoneWithItsDelayAndNotAcknowledged() {
        // Given two launched tasks
        var (m, tasks) = Self.launched(2)
        // When a batch with a RUNNING and a FAILED update cannot be written
        m.handle(Self.update(tasks[0], .running, uuid: "u0"))
        m.finishWrite()
        m.settle()
        m.handle(Self.update(tasks[1], .failed, uuid: "u1"))
        m.finishWrite(failing: true)
        m.settle()
        // Then the failure is undone: instance back, no launch delay, no acknowledgement
        #expect(m.state.instances.count == 2)
        #expect(m.state.delays.isEmpty)
        #expect(m.state.lastTaskFailures.isEmpty)
        #expect(m.calls(.acknowledge).compactMap { $0.acknowledge?.uuid } == ["u0"])
        // When it is delivered again and written, it counts
        m.update(tasks[1], .failed, uuid: "u1")
        #expect(m.state.instances.count == 1)
        #expect(m.state.delays["/web"] != nil)
        #expect(m.calls(.acknowledge).compactMap { $0.acknowledge?.uuid } == ["u0", "u1"])
    }

    @Test func anUnknownRunningTaskIsKilledAndAcknowledgedWithoutAWrite() {
        var m = MachineDriver()
        m.subscribe()
        let writes = m.writes.count
        m.update("stranger", .running, uuid: "u")
        #expect(m.writes.count == writes)
        #expect(m.calls(.kill).compactMap { $0.kill?.taskId } == ["stranger"])
        #expect(m.calls(.acknowledge).count == 1)
    }

    @Test func eventsArePublishedOnceTheUpdateIsWritten() throws {
        var (m, tasks) = Self.launched(1)
        let before = m.published.count
        m.handle(Self.update(tasks[0], .running, uuid: "u"))
        #expect(m.published.count == before)
        m.settle()
        let events = m.published[before...]
        #expect(events.contains { if case .statusUpdate = $0 { true } else { false } })
        #expect(events.contains { if case .instanceChanged(_, "Running") = $0 { true } else { false } })
    }

    @Test func aStreamOfUpdatesDoesNotHoldBackAnAPICall() {
        // Given a launched task whose updates keep arriving during every write
        var (m, tasks) = Self.launched(1)
        m.handle(Self.update(tasks[0], .starting, uuid: "s"))
        // When an API call arrives, then more updates before each write finishes
        let id = m.command(.resetDelay("/web"))
        m.handle(Self.update(tasks[0], .running, uuid: "r"))
        m.finishWrite()
        m.handle(Self.update(tasks[0], .running, uuid: "r2"))
        // Then the call is answered after the one batch that was before it, not after all of them
        #expect(m.replies[id] != nil)
        m.settle()
    }
}
