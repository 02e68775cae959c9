// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCoordination
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaScheduler

/// The elected scheduler's session rules against an in-memory election and a manual clock: a leader keeps
/// scheduling while disconnected, and the process ends (101) only when the session does or stays disconnected for
/// the session timeout.
@Suite struct ElectedSchedulerSessionTests {
    private let logger = Logger(label: "test.scheduler.session")

    private func machine() -> Locked<LeaderElectionMachine> {
        var configuration = LeaderElectionMachine.Configuration(sessionTimeout: .seconds(10))
        configuration.suspendWhileDisconnected = false
        return Locked(LeaderElectionMachine(configuration: configuration))
    }

    /// Runs the session watch until it throws, and returns what it threw.
    private func watch(
        _ election: InMemoryLeaderElection,
        clock: ManualClock,
        machine: Locked<LeaderElectionMachine>,
        _ drive: @Sendable () async -> Void
    ) async -> (any Error)? {
        await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    try await ElectedSchedulerService.watchSession(
                        election,
                        machine: machine,
                        clock: clock,
                        checkInterval: .milliseconds(200),
                        logger: self.logger
                    )
                    return nil
                } catch {
                    return error
                }
            }
            await drive()
            let error = await group.next() ?? nil
            group.cancelAll()
            return error
        }
    }

    @Test func disconnectedForTheSessionTimeoutExits101() async {
        // Given
        let election = InMemoryLeaderElection(sessionTimeout: .seconds(10))
        let clock = ManualClock()
        let machine = self.machine()
        // When
        let error = await self.watch(election, clock: clock, machine: machine) {
            await clock.sleepers(atLeast: 1)
            election.setSessionState(.connecting)
            while machine.value.isConnected { await Task.yield() }
            clock.advance(by: .seconds(9))
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(1))
        }
        // Then
        let exit = error as? SchedulerExit
        #expect(exit?.code == 101)
        #expect(machine.value.exitReason == .disconnected(for: .seconds(10)))
    }

    @Test func anExpiredSessionExits101AtOnce() async {
        // Given
        let election = InMemoryLeaderElection(sessionTimeout: .seconds(10))
        let clock = ManualClock()
        let machine = self.machine()
        // When
        let error = await self.watch(election, clock: clock, machine: machine) {
            await clock.sleepers(atLeast: 1)
            election.setSessionState(.expired)
        }
        // Then
        #expect((error as? SchedulerExit)?.code == 101)
        #expect(machine.value.exitReason == .sessionExpired)
        #expect(clock.now.offset == .zero)
    }

    @Test func aLeaderKeepsSchedulingWhileDisconnected() {
        // Given
        let machine = self.machine()
        machine.withLock { machine in
            _ = machine.elected(now: .zero)
            _ = machine.recovered(now: .zero)
        }
        // When
        let action = machine.withLock { $0.sessionChanged(to: .connecting, now: .seconds(1)) }
        // Then
        #expect(action == .none)
        #expect(machine.value.isServing)
    }
}
