// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// The order of work: one write at a time, later work waits for it, settles resume once everything before them is
/// done, and a refused (fenced) write stops the machine.
@Suite struct SchedulerStatePipelineTests {
    @Test func workWaitsForTheWriteInFlightAndRunsInArrivalOrder() throws {
        var m = MachineDriver()
        m.subscribe()
        let first = m.command(.createApp(Fixture.app(id: "/a")))
        let second = m.command(.createApp(Fixture.app(id: "/b")))
        guard case .saveApp(let app, _)? = m.write?.writes.first else {
            Issue.record("expected /a to be written")
            return
        }
        #expect(app.id == "/a")
        #expect(m.replies.isEmpty)
        m.finishWrite()
        guard case .saveApp(let next, _)? = m.write?.writes.first else {
            Issue.record("expected /b to be written next")
            return
        }
        #expect(next.id == "/b")
        m.settle()
        #expect(m.replies[first] != nil && m.replies[second] != nil)
    }

    @Test func aSettleResumesOnceEverythingBeforeItIsDoneAndSent() {
        var m = MachineDriver()
        m.subscribe()
        m.command(.createApp(Fixture.app()))
        m.handle(.settle(SchedulerState.WaiterID(7)))
        #expect(m.settled.isEmpty)
        m.finishWrite()
        #expect(m.settled.isEmpty, "the REVIVE decided is not sent yet")
        m.finishCalls()
        #expect(m.settled == [SchedulerState.WaiterID(7)])
    }

    @Test func aFencedWriteStopsEverything() throws {
        // Given a running app and work waiting behind a write
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 1))
        let offered = m.offer([Fixture.offer()])
        #expect(offered.count == 1)
        let calls = m.calls.count
        let create = m.command(.createApp(Fixture.app(id: "/b")))
        let waiting = m.command(.resetDelay("/web"))
        // When the store refuses the write: another scheduler took over
        let write = try #require(m.write)
        m.handle(
            .writeFinished(
                write.id,
                .failed(SchedulerState.StoreFailure(LeadershipFencedError(ownEpoch: 1, storedEpoch: 2)))
            )
        )
        // Then both calls fail as not leading, and nothing is written or sent from now on
        for id in [create, waiting] {
            guard case .failure(let error)? = m.replies[id] else {
                Issue.record("\(id) not failed")
                continue
            }
            #expect(error.code == .notLeader)
        }
        m.handle(.connection(.event(.offers([Fixture.offer("o2")]))))
        m.update(offered[0].taskId, .running, uuid: "u")
        m.advance(by: .seconds(700))
        let late = m.command(.createApp(Fixture.app(id: "/c")))
        #expect(m.write == nil)
        #expect(m.calls.count == calls)
        #expect(throws: SchedulerError.self) { try m.replies[late]?.get() }
        m.handle(.settle(SchedulerState.WaiterID(1)))
        #expect(m.settled == [SchedulerState.WaiterID(1)])
    }

    @Test func aSettleAfterFencingResumesOnceTheBatchInFlightIsSent() throws {
        // Given an ACCEPT being sent with a SUPPRESS queued behind it
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 1))
        m.handle(.connection(.event(.offers([Fixture.offer()]))))
        m.finishWrite()
        #expect(m.batch?.calls.map(\.type) == [.accept])
        // When the next write is refused by the store
        m.command(.createApp(Fixture.app(id: "/b")))
        let write = try #require(m.write)
        m.handle(
            .writeFinished(
                write.id,
                .failed(SchedulerState.StoreFailure(LeadershipFencedError(ownEpoch: 1, storedEpoch: 2)))
            )
        )
        // Then a settle waits for the ACCEPT already on its way, and no longer for the dropped SUPPRESS
        m.handle(.settle(SchedulerState.WaiterID(3)))
        #expect(m.settled.isEmpty)
        m.finishCalls()
        #expect(m.settled == [SchedulerState.WaiterID(3)])
        #expect(m.batch == nil)
        #expect(m.calls(.suppress).count == 1, "only the one sent when subscribing")
    }
}
