// SPDX-License-Identifier: Apache-2.0
import RegattaCoordination
import Testing

@Suite struct LeaderElectionMachineTests {
    private static let timeout = Duration.seconds(10)

    private func machine(
        suspend: Bool = true,
        contendAgain: Bool = false
    ) -> LeaderElectionMachine {
        var configuration = LeaderElectionMachine.Configuration(sessionTimeout: Self.timeout)
        configuration.suspendWhileDisconnected = suspend
        configuration.contendAgainAfterLosingCandidacyWhileFollowing = contendAgain
        return LeaderElectionMachine(configuration: configuration)
    }

    private func leading(suspend: Bool = true, contendAgain: Bool = false) -> LeaderElectionMachine {
        var machine = self.machine(suspend: suspend, contendAgain: contendAgain)
        _ = machine.sessionChanged(to: .connected, now: .zero)
        _ = machine.elected(now: .seconds(1))
        _ = machine.recovered(now: .seconds(2))
        return machine
    }

    @Test func electionRecoversThenServes() {
        // Given
        var machine = self.machine()
        _ = machine.sessionChanged(to: .connected, now: .zero)
        // When
        let elected = machine.elected(now: .seconds(1))
        let servingBeforeRecovery = machine.isServing
        let recovered = machine.recovered(now: .seconds(2))
        // Then
        #expect(elected == .recover)
        #expect(!servingBeforeRecovery)
        #expect(recovered == .serve)
        #expect(machine.isServing && machine.isElected)
    }

    @Test func leaderSuspendsWhileDisconnectedAndServesAgainOnReconnect() {
        // Given
        var machine = self.leading()
        // When
        let lost = machine.sessionChanged(to: .connecting, now: .seconds(5))
        let servingWhileDisconnected = machine.isServing
        let tickBeforeTimeout = machine.tick(now: .seconds(14))
        let back = machine.sessionChanged(to: .connected, now: .seconds(14))
        // Then
        #expect(lost == .suspend)
        #expect(!servingWhileDisconnected)
        #expect(tickBeforeTimeout == .none)
        #expect(back == .serve)
        #expect(machine.isServing)
        #expect(machine.deadline == nil)
    }

    @Test func disconnectedForTheSessionTimeoutExits101() {
        // Given
        var machine = self.leading()
        _ = machine.sessionChanged(to: .connecting, now: .seconds(5))
        // When
        let deadline = machine.deadline
        let justBefore = machine.tick(now: .seconds(15) - .milliseconds(1))
        let atDeadline = machine.tick(now: .seconds(15))
        // Then
        #expect(deadline == .seconds(15))
        #expect(justBefore == .none)
        #expect(atDeadline == .exit(.disconnected(for: .seconds(10))))
        #expect(LeaderElectionMachine.ExitReason.disconnected(for: .seconds(10)).code == 101)
        #expect(!machine.isServing)
    }

    @Test func repeatedDisconnectsKeepTheFirstDisconnectionTime() {
        // Given
        var machine = self.leading()
        _ = machine.sessionChanged(to: .connecting, now: .seconds(5))
        // When
        let again = machine.sessionChanged(to: .connecting, now: .seconds(8))
        // Then
        #expect(again == .none)
        #expect(machine.deadline == .seconds(15))
    }

    @Test func reconnectingResetsTheTimeout() {
        // Given
        var machine = self.leading()
        _ = machine.sessionChanged(to: .connecting, now: .seconds(5))
        _ = machine.sessionChanged(to: .connected, now: .seconds(9))
        // When
        _ = machine.sessionChanged(to: .connecting, now: .seconds(12))
        let atOldDeadline = machine.tick(now: .seconds(15))
        let atNewDeadline = machine.tick(now: .seconds(22))
        // Then
        #expect(atOldDeadline == .none)
        #expect(atNewDeadline == .exit(.disconnected(for: .seconds(10))))
    }

    @Test func followerDisconnectedForTheSessionTimeoutExitsToo() {
        // Given
        var machine = self.machine()
        let lost = machine.sessionChanged(to: .connecting, now: .seconds(1))
        // When
        let action = machine.tick(now: .seconds(11))
        // Then
        #expect(lost == .none)
        #expect(action == .exit(.disconnected(for: .seconds(10))))
    }

    @Test func withoutSuspensionALeaderKeepsServingWhileDisconnected() {
        // Given
        var machine = self.leading(suspend: false)
        // When
        let lost = machine.sessionChanged(to: .connecting, now: .seconds(5))
        // Then
        #expect(lost == .none)
        #expect(machine.isServing)
        #expect(machine.tick(now: .seconds(15)) == .exit(.disconnected(for: .seconds(10))))
    }

    @Test(arguments: [
        (CoordinationSessionState.expired, LeaderElectionMachine.ExitReason.sessionExpired),
        (.authenticationFailed, .authenticationFailed),
        (.closed, .sessionClosed),
    ])
    func endedSessionsExit101(state: CoordinationSessionState, reason: LeaderElectionMachine.ExitReason) {
        // Given
        var machine = self.leading()
        // When
        let action = machine.sessionChanged(to: state, now: .seconds(3))
        // Then
        #expect(action == .exit(reason))
        #expect(reason.code == 101)
        #expect(machine.phase == .stopped && machine.exitReason == reason)
    }

    @Test func recoveringWhileDisconnectedServesOnlyOnReconnect() {
        // Given
        var machine = self.machine()
        _ = machine.elected(now: .seconds(1))
        _ = machine.sessionChanged(to: .connecting, now: .seconds(2))
        // When
        let recovered = machine.recovered(now: .seconds(3))
        let back = machine.sessionChanged(to: .connected, now: .seconds(4))
        // Then
        #expect(recovered == .none)
        #expect(back == .serve)
    }

    @Test func lostCandidacyExits103() {
        // Given
        var follower = self.machine()
        var leader = self.leading()
        // When
        let followerAction = follower.candidacyLost(now: .seconds(1))
        let leaderAction = leader.candidacyLost(now: .seconds(3))
        // Then
        #expect(followerAction == .exit(.candidacyLost(afterElection: false)))
        #expect(leaderAction == .exit(.candidacyLost(afterElection: true)))
        #expect(LeaderElectionMachine.ExitReason.candidacyLost(afterElection: true).code == 103)
    }

    @Test func followerThatMayContendAgainDoesSoButALeaderStillExits() {
        // Given
        var follower = self.machine(contendAgain: true)
        var leader = self.leading(contendAgain: true)
        // When
        let followerAction = follower.candidacyLost(now: .seconds(1))
        let leaderAction = leader.candidacyLost(now: .seconds(3))
        // Then
        #expect(followerAction == .contendAgain)
        #expect(follower.phase == .following)
        #expect(leaderAction == .exit(.candidacyLost(afterElection: true)))
    }

    @Test func failedSessionCallExits101WithItsDetail() {
        // Given
        var machine = self.machine()
        _ = machine.elected(now: .seconds(1))
        // When
        let action = machine.sessionFailed("Could not read the agent registry", now: .seconds(2))
        // Then
        #expect(action == .exit(.sessionFailed("Could not read the agent registry")))
        #expect(LeaderElectionMachine.ExitReason.sessionFailed("x").code == 101)
        #expect(machine.phase == .stopped)
    }

    @Test func fencedLeaderExits103() {
        // Given
        var machine = self.leading()
        // When
        let action = machine.fenced(now: .seconds(3))
        // Then
        #expect(action == .exit(.fenced))
        #expect(LeaderElectionMachine.ExitReason.fenced.code == 103)
        #expect(!machine.isServing)
    }

    @Test func abdicationEndsTheTermWithoutExitingAndAllowsANewOne() {
        // Given
        var machine = self.leading()
        // When
        let abdicated = machine.abdicated(now: .seconds(3))
        let elected = machine.elected(now: .seconds(4))
        let recovered = machine.recovered(now: .seconds(5))
        // Then
        #expect(abdicated == .contendAgain)
        #expect(elected == .recover)
        #expect(recovered == .serve)
        #expect(machine.exitReason == nil)
    }

    @Test func abdicationIsIgnoredByAFollower() {
        // Given
        var machine = self.machine()
        // When
        let action = machine.abdicated(now: .seconds(1))
        // Then
        #expect(action == .none)
        #expect(machine.phase == .following)
    }

    @Test func shutdownStopsServingAndIgnoresTheSessionClosingAfterIt() {
        // Given
        var machine = self.leading()
        // When
        let stop = machine.shutDown()
        let closed = machine.sessionChanged(to: .closed, now: .seconds(3))
        let lost = machine.candidacyLost(now: .seconds(3))
        // Then
        #expect(stop == .suspend)
        #expect(closed == .none && lost == .none)
        #expect(machine.exitReason == nil)
        #expect(machine.deadline == nil)
    }

    @Test func eventsAfterAnExitAreIgnored() {
        // Given
        var machine = self.leading()
        _ = machine.sessionChanged(to: .expired, now: .seconds(3))
        // When
        let connected = machine.sessionChanged(to: .connected, now: .seconds(4))
        let fenced = machine.fenced(now: .seconds(4))
        // Then
        #expect(connected == .none && fenced == .none)
        #expect(machine.exitReason == .sessionExpired)
    }
}
