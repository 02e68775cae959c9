// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// Numbers from the wire are refused where they enter, and none can make the master trap.
@Suite struct MasterStateWireValidationTests {
    @Test func hugeFailoverTimeoutIsRefusedAtSubscribe() {
        // Given the reproducer's framework info (failover_timeout 1e300)
        var h = MasterHarness()
        // When it subscribes / Then 400 naming the field, and no framework is registered
        for bad in [1e300, -1, Saturating.maximumSeconds * 2] {
            #expect {
                _ = try h.subscribe(Fixture.framework(failoverTimeout: bad))
            } throws: { error in
                let error = error as? MasterError
                return error?.status == 400 && error?.message.contains("failover_timeout") == true
            }
        }
        #expect(h.state.frameworks.isEmpty)
    }

    @Test func theLargestAcceptedFailoverTimeoutTicksWithoutTrapping() throws {
        // Given a framework with the largest timeout accepted, disconnected
        var h = MasterHarness()
        let (framework, stream) = try h.subscribe(Fixture.framework(failoverTimeout: Saturating.maximumSeconds))
        _ = h.state.frameworkDisconnected(framework, streamID: stream, now: h.now)
        // When time passes
        _ = h.state.tick(now: .seconds(1_000_000))
        // Then it is still waiting to fail over
        #expect(h.state.frameworks[framework] != nil)
    }

    @Test func refusalFiltersAndKillPoliciesOutOfRangeAreRefused() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        // DECLINE with refuse_seconds -1e300
        var decline = SchedulerCall(frameworkId: framework, type: .decline)
        decline.decline = .init(offerIds: [offer.id], filters: Filters(refuseSeconds: -1e300))
        #expect(throws: MasterError.self) { try h.call(decline, from: framework) }
        // the offer is still outstanding: nothing changed
        #expect(h.state.offers[offer.id] != nil)
        // ACCEPT with refuse_seconds 1e300
        #expect(throws: MasterError.self) {
            try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], refuse: 1e300, from: framework)
        }
        #expect(h.state.tasks.isEmpty)
        // KILL with a negative grace period
        var kill = SchedulerCall(frameworkId: framework, type: .kill)
        kill.kill = .init(taskId: "t1", agentId: agent)
        kill.kill?.killPolicy = KillPolicy(gracePeriod: DurationInfo(nanoseconds: -1))
        #expect(throws: MasterError.self) { try h.call(kill, from: framework) }
    }

    @Test func aTaskWithHostileTimesGetsTaskError() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        var task = Fixture.task("t1", agent: agent)
        task.healthCheck = HealthCheck(type: .tcp, intervalSeconds: 1e300, tcp: .init(port: 80))
        let actions = try h.accept(offer, tasks: [task], from: framework)
        let statuses = updates(actions, to: framework)
        #expect(statuses.map(\.state) == [.error])
        #expect(statuses.first?.message?.contains("health_check.interval_seconds") == true)
        #expect(h.state.tasks.isEmpty)
    }
}
