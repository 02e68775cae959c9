// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore
import RegattaMasterTestKit
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// The master's election shell against in-memory coordination and a manual clock: failover in milliseconds.
@Suite struct MasterElectionFailoverTests {
    private let logger = Logger(label: "test.master.election")

    private struct Harness {
        let election = InMemoryLeaderElection(sessionTimeout: .seconds(10))
        let registry = InMemoryAgentRegistryStore()
        let clock = ManualClock()
        let exits = Locked<[MasterExit]>([])
        let master: Master
        let shell: MasterElection<ManualClock>

        init(logger: Logger) {
            let clock = self.clock
            self.master = Master(
                configuration: MasterConfiguration(),
                masterID: "m1",
                logger: logger,
                uptime: clock.uptime,
                wallTime: { 1_000 },
                leadership: .contending()
            )
            let exits = self.exits
            self.shell = MasterElection(
                master: self.master,
                highAvailability: MasterHighAvailability(election: self.election, registry: self.registry) { exit in
                    exits.withLock { $0.append(exit) }
                },
                sessionTimeout: .seconds(10),
                clock: clock,
                logger: logger
            )
        }
    }

    /// Waits (yielding, at most a few thousand turns) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<20_000 {
            if condition() { return true }
            await Task.yield()
        }
        return condition()
    }

    @Test func theOnlyContenderLeadsThenStepsDownWhileDisconnectedAndExits101AtTheSessionTimeout() async throws {
        // Given
        let harness = Harness(logger: self.logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await harness.shell.run() }
            #expect(await self.eventually { harness.master.leadership.role == .leading })
            // When
            harness.election.setSessionState(.connecting)
            #expect(await self.eventually { harness.master.leadership.role != .leading })
            await harness.clock.sleepers(atLeast: 1)
            harness.clock.advance(by: .seconds(10))
            // Then
            #expect(await self.eventually { !harness.exits.value.isEmpty })
            #expect(harness.exits.value.map(\.code) == [101])
            #expect(harness.master.leadership.role != .leading)
            group.cancelAll()
        }
    }

    @Test func reconnectingWithinTheSessionTimeoutLeadsAgain() async throws {
        // Given
        let harness = Harness(logger: self.logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await harness.shell.run() }
            #expect(await self.eventually { harness.master.leadership.role == .leading })
            harness.election.setSessionState(.connecting)
            #expect(await self.eventually { harness.master.leadership.role != .leading })
            // When
            await harness.clock.sleepers(atLeast: 1)
            harness.clock.advance(by: .seconds(5))
            harness.election.setSessionState(.connected)
            // Then
            #expect(await self.eventually { harness.master.leadership.role == .leading })
            harness.clock.advance(by: .seconds(10))
            for _ in 0..<1_000 { await Task.yield() }
            #expect(harness.exits.value.isEmpty)
            group.cancelAll()
        }
    }

    @Test func aFollowerLeadsOnlyOnceTheLeaderIsGone() async throws {
        // Given
        let harness = Harness(logger: self.logger)
        let other = harness.election.addContender(data: Array(#"{"id":"m0","ip":16777343,"port":5050}"#.utf8))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await harness.shell.run() }
            #expect(await self.eventually { harness.election.contended.count == 1 })
            for _ in 0..<1_000 { await Task.yield() }
            #expect(!harness.master.leadership.isElected)
            // When
            harness.election.removeCandidacy(epoch: other)
            // Then
            #expect(await self.eventually { harness.master.leadership.role == .leading })
            #expect(harness.exits.value.isEmpty)
            group.cancelAll()
        }
    }

    @Test func losingTheCandidacyWhileLeadingExits103() async throws {
        // Given
        let harness = Harness(logger: self.logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await harness.shell.run() }
            #expect(await self.eventually { harness.master.leadership.role == .leading })
            // When
            for epoch in harness.election.candidacies { harness.election.removeCandidacy(epoch: epoch) }
            // Then
            #expect(await self.eventually { !harness.exits.value.isEmpty })
            #expect(harness.exits.value.map(\.code) == [103])
            #expect(harness.master.leadership.role != .leading)
            group.cancelAll()
        }
    }

    @Test func anExpiredSessionExits101() async throws {
        // Given
        let harness = Harness(logger: self.logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await harness.shell.run() }
            #expect(await self.eventually { harness.master.leadership.role == .leading })
            // When
            harness.election.setSessionState(.expired)
            // Then
            #expect(await self.eventually { !harness.exits.value.isEmpty })
            #expect(harness.exits.value.first?.code == 101)
            group.cancelAll()
        }
    }
}
