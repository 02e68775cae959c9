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
