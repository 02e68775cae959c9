// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// The state's deadlines, with explicit `now`: it says when it next needs to act, and acts then and not before.
@Suite struct MasterStateTimersTests {
    static func harness(_ change: (inout MasterConfiguration) -> Void) -> MasterHarness {
        var configuration = MasterConfiguration()
        change(&configuration)
        return MasterHarness(configuration: configuration)
    }

    static func recordedUnreachable(_ actions: [MasterAction]) -> [AgentID?] {
        actions.compactMap { action in
            if case .recordAgent(let info, .unreachable) = action { return info.id }
            return nil
        }
    }

    @Test func offerExpiresAndIsRescindedAtItsDeadlineAndNotBefore() throws {
        // Given offers that time out after 10 s, and an offer made at 2 s
        var h = Self.harness { $0.offerTimeout = .seconds(10) }
        h.now = .seconds(2)
        _ = h.addAgent()
        let (framework, _) = try h.subscribe()
        let actions = h.state.allocate(now: h.now)
        let offered = actions.flatMap { action -> [Offer] in
            if case .frameworkEvent(framework, let event) = action { return event.offers?.offers ?? [] }
            return []
        }
        let offer = try #require(offered.first)
        // Then the allocation asks to be woken at its expiry, which is the state's next deadline
        #expect(actions.last == .wakeAt(.seconds(12)))
        #expect(h.state.nextDeadline() == .seconds(12))
        // When the timer fires just before the deadline
        let early = h.state.timerFired(now: .seconds(12) - .nanoseconds(1))
        // Then nothing is rescinded
        #expect(!early.contains(.frameworkEvent(framework, .rescind(offer.id))))
        #expect(h.state.offers[offer.id] != nil)
        // When it fires at the deadline
        let due = h.state.timerFired(now: .seconds(12))
        // Then the offer is rescinded and its resources are free again, and the next deadline is the ping round
        #expect(due == [.frameworkEvent(framework, .rescind(offer.id))])
        #expect(h.state.offers.isEmpty)
        #expect(h.state.agents.values.allSatisfy { $0.offered.isEmpty })
        #expect(h.state.nextDeadline() == h.state.configuration.agentPingTimeout)
    }

    @Test func agentThatStopsAnsweringPingsBecomesUnreachableAtTheTimeoutAndIsRecordedOnce() throws {
        // Given pings every 15 s, 3 missed pings allowed, and an agent that never answers
        var h = Self.harness {
            $0.agentPingTimeout = .seconds(15)
            $0.maxAgentPingTimeouts = 3
        }
        let agent = h.addAgent()
        var all: [MasterAction] = []
        // When the timer fires at each deadline the state names, up to 45 s
        for expected in [15, 30, 45] {
            #expect(h.state.nextDeadline() == .seconds(expected))
            all += h.state.timerFired(now: .seconds(expected))
            // Then the agent is pinged and still reachable
            #expect(all.last == .agentMessage(agent, .ping))
            #expect(h.state.agents[agent]?.unreachable == false)
        }
        // When the fourth round comes, at 60 s
        #expect(h.state.nextDeadline() == .seconds(60))
        all += h.state.timerFired(now: .seconds(60))
        // Then it is unreachable, and written to the registry once, even after more rounds
        #expect(h.state.agents[agent]?.unreachable == true)
        all += h.state.timerFired(now: .seconds(75))
        all += h.state.timerFired(now: .seconds(90))
        #expect(Self.recordedUnreachable(all) == [agent])
    }

    @Test func pingRoundsKeepTheirScheduleWhenTheTimerFiresLate() {
        // Given pings every 15 s
        var h = Self.harness { $0.agentPingTimeout = .seconds(15) }
        // When the timer fires late, past two rounds
        _ = h.state.timerFired(now: .seconds(47))
        // Then the next round is the next one on the schedule
        #expect(h.state.nextDeadline() == .seconds(60))
    }

    @Test func recoveredAgentThatDoesNotReregisterInItsWindowIsMarkedUnreachable() throws {
        // Given a master elected at 5 s that recovered agents a and b, 30 s to re-register, and b back in time
        var h = Self.harness {
            $0.agentReregisterTimeout = .seconds(30)
            $0.agentPingTimeout = .seconds(600)
        }
        h.now = .seconds(5)
        h.state.recover(
            [MasterStateRecoveryTests.entry("a", .admitted), MasterStateRecoveryTests.entry("b", .admitted)],
            now: h.now
        )
        h.now = .seconds(20)
        _ = h.addAgent("b", id: "b")
        #expect(h.state.nextDeadline() == .seconds(35))
        // When the timer fires before the window closes
        #expect(h.state.timerFired(now: .seconds(35) - .nanoseconds(1)).isEmpty)
        #expect(h.state.agents["a"] == nil)
        // When it fires as the window closes
        let actions = h.state.timerFired(now: .seconds(35))
        // Then a is unreachable and recorded so (once), b is untouched, and recovery is over
        #expect(Self.recordedUnreachable(actions) == ["a"])
        #expect(h.state.agents["a"]?.unreachable == true)
        #expect(h.state.agents["b"]?.unreachable == false)
        #expect(h.state.recoveryDeadline == nil)
        #expect(Self.recordedUnreachable(h.state.timerFired(now: .seconds(36))).isEmpty)
        #expect(h.state.nextDeadline() == .seconds(600))
    }

    @Test func tooManyMissingRecoveredAgentsStopTheMasterOnceAndMarkNobody() {
        // Given 2 of 2 recovered agents missing with a 50 % removal limit
        var h = Self.harness {
            $0.agentReregisterTimeout = .seconds(30)
            $0.recoveryAgentRemovalLimit = 0.5
            $0.agentPingTimeout = .seconds(600)
        }
        h.state.recover(
            [MasterStateRecoveryTests.entry("a", .admitted), MasterStateRecoveryTests.entry("b", .admitted)],
            now: .zero
        )
        // When the window closes
        let actions = h.state.timerFired(now: .seconds(30))
        // Then the master is told to stop, nobody is marked, and the window is no longer a reason to wake
        #expect(actions == [.recoveryRemovalLimitExceeded(missing: 2, admitted: 2)])
        #expect(h.state.agents.isEmpty)
        #expect(h.state.nextDeadline() == .seconds(600))
        #expect(h.state.timerFired(now: .seconds(31)).isEmpty)
    }

    @Test func disconnectedFrameworkAsksToBeWokenAtItsFailoverTimeout() throws {
        // Given a framework with a 20 s failover timeout that disconnects at 3 s
        var h = Self.harness { $0.agentPingTimeout = .seconds(600) }
        let (framework, stream) = try h.subscribe(Fixture.framework(failoverTimeout: 20))
        let actions = h.state.frameworkDisconnected(framework, streamID: stream, now: .seconds(3))
        // Then it asks to be woken at 23 s, when it is removed and not before
        #expect(actions.last == .wakeAt(.seconds(23)))
        #expect(h.state.nextDeadline() == .seconds(23))
        _ = h.state.timerFired(now: .seconds(23) - .nanoseconds(1))
        #expect(h.state.frameworks[framework] != nil)
        _ = h.state.timerFired(now: .seconds(23))
        #expect(h.state.frameworks[framework] == nil)
    }
}
