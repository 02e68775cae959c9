// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// The subscription: the framework id is written once, and reconciliation runs on subscribing, then at its interval,
/// and sooner after an ACCEPT failed.
@Suite struct SchedulerStateMasterLinkTests {
    static func reconciliations(_ m: MachineDriver) -> Int {
        // Every reconciliation ends with an implicit one (no tasks).
        m.calls(.reconcile).filter { ($0.reconcile?.tasks ?? []).isEmpty }.count
    }

    @Test func theFrameworkIDIsWrittenOnceAndReconciliationFollowsSubscribing() {
        var m = MachineDriver()
        m.handle(.connection(.subscribed("fw")))
        #expect(m.write?.writes == [.setFrameworkID("fw")])
        #expect(m.calls.isEmpty, "the calls wait for the framework id to be written")
        m.settle()
        #expect(m.state.frameworkID == "fw")
        #expect(Self.reconciliations(m) == 1)
        // Subscribing again (a master failover) reconciles again without writing the id again.
        m.handle(.connection(.disconnected(reason: "failover")))
        m.subscribe()
        #expect(m.writes.filter { $0 == [.setFrameworkID("fw")] }.count == 1)
        #expect(Self.reconciliations(m) == 2)
    }

    @Test func reconciliationRunsAtItsInterval() {
        var configuration = SchedulerState.Configuration()
        configuration.reconciliationInterval = .seconds(60)
        var m = MachineDriver(configuration: configuration)
        m.subscribe()
        m.advance(by: .seconds(59))
        m.settle()
        #expect(Self.reconciliations(m) == 1)
        m.advance(by: .seconds(1))
        m.settle()
        #expect(Self.reconciliations(m) == 2)
    }

    @Test func aFailedAcceptMakesTheNextTickReconcile() {
        var m = MachineDriver()
        m.subscribe()
        m.createApp(Fixture.app(instances: 1))
        m.handle(.connection(.event(.offers([Fixture.offer()]))))
        m.finishWrite()
        #expect(m.batch?.calls.map(\.type) == [.accept])
        m.finishCalls(failures: ["timed out"])
        m.settle()
        #expect(m.state.instances.count == 1, "kept: the master may have launched it")
        m.advance(by: .seconds(1))
        m.settle()
        #expect(Self.reconciliations(m) == 2)
        // The explicit reconciliation names the task.
        let named = m.calls(.reconcile).flatMap { $0.reconcile?.tasks ?? [] }.map(\.taskId)
        #expect(named == m.state.instances.values.map(\.taskId))
    }

    @Test func aFrameworkIDThatCannotBeWrittenIsNotAdopted() {
        var m = MachineDriver()
        m.handle(.connection(.subscribed("fw")))
        m.finishWrite(failing: true)
        m.settle()
        #expect(m.state.frameworkID == nil)
        #expect(m.logs.contains { $0.level == .error && $0.message == "Could not store the framework id" })
    }
}
