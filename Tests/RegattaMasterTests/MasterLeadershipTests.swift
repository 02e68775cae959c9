// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import RegattaMaster

@Suite struct MasterLeadershipTests {
    @Test func agentCallsWaitForAJustElectedMasterToRecover() async throws {
        // Given a master that was just elected and is loading its registry
        let leadership = MasterLeadership.contending()
        leadership.elected(now: 0)
        #expect(leadership.isRecovering)
        #expect(leadership.role != .leading)
        // When a call waits (at most 30 s) and the registry is loaded 200 ms later
        let waiter = Task {
            await leadership.waitWhileRecovering(atMost: .seconds(30))
            return ContinuousClock.now
        }
        try await Task.sleep(for: .milliseconds(200))
        let recoveredAt = ContinuousClock.now
        leadership.recovered()
        let ended = await waiter.value
        // Then it went on after the master served, and soon (long before its limit)
        #expect(ended >= recoveredAt)
        #expect(ended - recoveredAt < .seconds(5))
        #expect(leadership.role == .leading)
        #expect(!leadership.isRecovering)
    }

    @Test func waitingEndsAtTheLimitOrAtOnceWhenNotRecovering() async {
        // A follower is not recovering: no wait at all
        let follower = MasterLeadership.contending()
        let start = ContinuousClock.now
        await follower.waitWhileRecovering(atMost: .seconds(30))
        #expect(ContinuousClock.now - start < .seconds(1))
        // A master stuck recovering is waited for no longer than the limit
        let stuck = MasterLeadership.contending()
        stuck.elected(now: 0)
        let stuckStart = ContinuousClock.now
        await stuck.waitWhileRecovering(atMost: .milliseconds(150))
        let waited = ContinuousClock.now - stuckStart
        #expect(waited >= .milliseconds(150))
        #expect(waited < .seconds(5))
    }
}
