// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// What memory holds that the store does not: written after each change, and again after a failed write.
@Suite struct SchedulerStatePersistenceTests {
    @Test func aFailedWriteOfKillMarksAndFinishedDeploymentsIsRetriedOnTheNextTick() throws {
        // Given two running instances of a deployed app
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 2, cpus: 0.1, ports: 0))
        for task in m.offer([Fixture.offer(cpus: 4)]) { m.update(task.taskId, .running, uuid: "u-\(task.taskId)") }
        // When it is scaled down and the write of the kill mark fails
        m.command(.putApp(Fixture.app(instances: 1, cpus: 0.1, ports: 0), force: true))
        m.finishWrite()
        let marks = try #require(m.write?.writes)
        #expect(
            marks.contains {
                if case .saveInstances(let saved) = $0 { saved.allSatisfy(\.killRequested) } else { false }
            }
        )
        m.finishWrite(failing: true)
        m.settle()
        // Then the KILL still goes out, and the next tick writes the same mark again
        #expect(m.calls(.kill).count == 1)
        m.advance(by: .seconds(1))
        #expect(m.write?.writes == marks)
        m.settle()
        m.advance(by: .seconds(1))
        #expect(m.write == nil, "written: nothing left to write")
    }

    @Test func nothingIsWrittenWhenNothingChanged() {
        var m = MachineDriver()
        m.subscribe()
        let writes = m.writes.count
        for _ in 0..<5 { m.advance(by: .seconds(1)) }
        m.settle()
        #expect(m.writes.count == writes)
    }
}
