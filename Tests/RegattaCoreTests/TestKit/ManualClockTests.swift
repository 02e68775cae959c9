// SPDX-License-Identifier: Apache-2.0
import RegattaTestKit
import Testing

@Suite struct ManualClockTests {
    @Test func sleepReturnsOnlyOnceTheClockReachesItsDeadline() async throws {
        // Given
        let clock = ManualClock()
        let woke = AsyncStream<Duration>.makeStream()
        // When
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await clock.sleep(for: .seconds(5))
                woke.continuation.yield(clock.uptimeNow)
            }
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(4))
            #expect(clock.sleeperCount == 1)
            clock.advance(by: .seconds(1))
            try await group.waitForAll()
        }
        woke.continuation.finish()
        // Then
        var times: [Duration] = []
        for await time in woke.stream { times.append(time) }
        #expect(times == [.seconds(5)])
        #expect(clock.sleeperCount == 0)
    }

    @Test func aDeadlineInThePastReturnsAtOnce() async throws {
        let clock = ManualClock()
        clock.advance(by: .seconds(10))
        try await clock.sleep(until: ManualClock.Instant(offset: .seconds(3)))
        #expect(clock.now == ManualClock.Instant(offset: .seconds(10)))
    }

    @Test func cancellingASleeperThrowsCancellationAndForgetsIt() async throws {
        // Given
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        await clock.sleepers(atLeast: 1)
        // When
        sleeper.cancel()
        // Then
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func advanceWakesEverySleeperThatIsDue() async throws {
        let clock = ManualClock()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for seconds in [1, 2, 30] {
                group.addTask { try await clock.sleep(for: .seconds(seconds)) }
            }
            await clock.sleepers(atLeast: 3)
            clock.advance(by: .seconds(2))
            try await group.next()
            try await group.next()
            #expect(clock.sleeperCount == 1)
            clock.advance(to: ManualClock.Instant(offset: .seconds(30)))
            try await group.waitForAll()
        }
        #expect(clock.sleeperCount == 0)
    }

    @Test func cancellingAWaitForSleepersEndsIt() async {
        // Given a test waiting for a sleeper that never comes (as when a test's time limit runs out)
        let clock = ManualClock()
        let waiter = Task { await clock.sleepers(atLeast: 1) }
        // When it is cancelled, then the wait ends instead of hanging the run
        waiter.cancel()
        await waiter.value
        #expect(clock.sleeperCount == 0)
    }
}
