// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// The master's timer loop on a `ManualClock`: it sleeps until the state's next deadline, is woken earlier when an
/// event brings a nearer one, and fires then. Tests gate on `sleepers(atLeast:)`, never on real time.
@Suite(.timeLimit(.minutes(1))) struct MasterTimersTests {
    static func master(clock: ManualClock, _ change: (inout MasterConfiguration) -> Void) -> Master {
        var configuration = MasterConfiguration()
        change(&configuration)
        return Master(
            configuration: configuration,
            masterID: "m",
            logger: Logger(label: "test"),
            uptime: clock.uptime,
            wallTime: { 1_763_767_000 }
        )
    }

    static func timers(_ master: Master, clock: ManualClock) -> MasterTimers<ManualClock> {
        MasterTimers(
            master: master,
            clock: clock,
            origin: clock.now,
            allocationInterval: .seconds(1),
            heartbeatInterval: .seconds(15)
        )
    }

    /// Runs the deadline loop while `body` runs, then stops it.
    static func withDeadlineLoop(
        _ master: Master,
        clock: ManualClock,
        _ body: () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await Self.timers(master, clock: clock).runDeadlines() }
            try await body()
            group.cancelAll()
            await #expect(throws: CancellationError.self) { try await group.next() }
        }
    }

    @Test func loopWakesAtTheOfferDeadlineAndNotBefore() async throws {
        // Given an offer made at 0 s that expires after 10 s, pings far off
        let clock = ManualClock()
        let master = Self.master(clock: clock) {
            $0.offerTimeout = .seconds(10)
            $0.agentPingTimeout = .seconds(600)
        }
        _ = try await master.subscribeAgent(Fixture.agentSubscribe())
        let (framework, _, stream) = try await master.subscribe(.init(frameworkInfo: Fixture.framework()))
        var events = stream.makeAsyncIterator()
        #expect(await events.next()?.type == .subscribed)
        await master.allocate()
        let offers = await events.next()?.offers?.offers ?? []
        let offer = try #require(offers.first)
        try await Self.withDeadlineLoop(master, clock: clock) {
            // When the loop sleeps, and time reaches just before the deadline
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(10) - .milliseconds(1))
            // Then it still sleeps and the offer is outstanding
            #expect(clock.sleeperCount == 1)
            #expect(await master.snapshot.offers[offer.id] != nil)
            // When time reaches the deadline
            clock.advance(by: .milliseconds(1))
            // Then the offer is rescinded, with the clock at the deadline
            let rescind = await events.next()
            #expect(rescind?.type == .rescind)
            #expect(rescind?.rescind?.offerId == offer.id)
            #expect(clock.uptimeNow == .seconds(10))
            #expect(await master.snapshot.offers.isEmpty)
            #expect(await master.snapshot.frameworks[framework]?.offers.isEmpty == true)
        }
    }

    @Test func anEventWithANearerDeadlineWakesTheLoopEarly() async throws {
        // Given the loop asleep until the ping round at 600 s
        let clock = ManualClock()
        let master = Self.master(clock: clock) {
            $0.offerTimeout = .seconds(10)
            $0.agentPingTimeout = .seconds(600)
        }
        _ = try await master.subscribeAgent(Fixture.agentSubscribe())
        let (_, _, stream) = try await master.subscribe(.init(frameworkInfo: Fixture.framework()))
        var events = stream.makeAsyncIterator()
        #expect(await events.next()?.type == .subscribed)
        try await Self.withDeadlineLoop(master, clock: clock) {
            await clock.sleepers(atLeast: 1)
            // When an allocation makes an offer that expires at 10 s, and time reaches 10 s
            await master.allocate()
            let offers = await events.next()?.offers?.offers ?? []
            let offer = try #require(offers.first)
            clock.advance(by: .seconds(10))
            // Then the offer is rescinded then, long before the loop's first deadline
            #expect(await events.next()?.rescind?.offerId == offer.id)
            #expect(clock.uptimeNow == .seconds(10))
        }
    }

    @Test func agentThatStopsAnsweringIsPingedThenMarkedUnreachableAtTheTimeout() async throws {
        // Given pings every 15 s, 2 missed pings allowed, and an agent that never answers
        let clock = ManualClock()
        let master = Self.master(clock: clock) {
            $0.agentPingTimeout = .seconds(15)
            $0.maxAgentPingTimeouts = 2
        }
        let (agent, _, stream) = try await master.subscribeAgent(Fixture.agentSubscribe())
        var messages = stream.makeAsyncIterator()
        #expect(await messages.next()?.type == .registered)
        try await Self.withDeadlineLoop(master, clock: clock) {
            // When each of the first two rounds comes
            for _ in 0..<2 {
                await clock.sleepers(atLeast: 1)
                clock.advance(by: .seconds(15))
                // Then the agent is pinged and still reachable
                #expect(await messages.next()?.type == .ping)
                #expect(await master.snapshot.agents[agent]?.unreachable == false)
            }
            // When the third round comes, at 45 s
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(15))
            // Then the agent's stream is closed and it is unreachable
            #expect(await messages.next()?.type == nil)
            #expect(await master.snapshot.agents[agent]?.unreachable == true)
            #expect(clock.uptimeNow == .seconds(45))
        }
    }

    @Test func aFollowerWaitsForNoDeadlineUntilItLeads() async throws {
        // Given a contending master with one recovered agent expected back within 30 s
        let clock = ManualClock()
        var configuration = MasterConfiguration()
        configuration.agentReregisterTimeout = .seconds(30)
        configuration.agentPingTimeout = .seconds(600)
        let master = Master(
            configuration: configuration,
            masterID: "m",
            logger: Logger(label: "test"),
            uptime: clock.uptime,
            wallTime: { 0 },
            leadership: .contending()
        )
        try await Self.withDeadlineLoop(master, clock: clock) {
            // When it is elected while its loop waits
            master.leadership.elected(now: 0)
            await master.becomeLeader(
                registry: nil,
                entries: [MasterStateRecoveryTests.entry("a", .admitted)],
                onExit: { _ in }
            )
            // Then the loop sleeps until the re-registration window closes, and marks the agent unreachable then
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(30))
            await clock.sleepers(atLeast: 1)
            #expect(await master.snapshot.agents["a"]?.unreachable == true)
        }
    }

    @Test func tooManyMissingRecoveredAgentsStopTheMasterWhenTheWindowCloses() async throws {
        // Given a master elected with 2 recovered agents, 30 s to re-register, and a 50 % removal limit
        let clock = ManualClock()
        let master = Self.master(clock: clock) {
            $0.agentReregisterTimeout = .seconds(30)
            $0.recoveryAgentRemovalLimit = 0.5
            $0.agentPingTimeout = .seconds(600)
        }
        let (exits, exit) = AsyncStream<MasterExit>.makeStream()
        await master.becomeLeader(
            registry: nil,
            entries: [MasterStateRecoveryTests.entry("a", .admitted), MasterStateRecoveryTests.entry("b", .admitted)],
            onExit: { exit.yield($0) }
        )
        try await Self.withDeadlineLoop(master, clock: clock) {
            // When neither comes back before the window closes
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(30))
            // Then the master is told to stop, at 30 s, and nobody was marked unreachable
            var iterator = exits.makeAsyncIterator()
            let stop = await iterator.next()
            #expect(stop?.code == 104)
            #expect(stop?.message.contains("2 of 2 agents") == true)
            #expect(clock.uptimeNow == .seconds(30))
            #expect(await master.snapshot.agents.isEmpty)
        }
    }
}
