// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@Suite struct BackoffTests {
    @Test func growsFromInitialToMaximum() {
        // Given the status update policy: 500 ms doubling up to 10 s
        let backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(10))
        // When
        let delays = (0..<8).map { backoff.delay(attempt: $0) }
        // Then
        #expect(
            delays == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10),
                .seconds(10),
            ]
        )
        #expect(backoff.delay(attempt: 10_000) == .seconds(10))
        #expect(backoff.delay(attempt: .max) == .seconds(10))
    }

    @Test func multiplierSetsTheGrowth() {
        // Given a backoff tripling from 1 s, and one that does not grow
        let tripling = Backoff(initial: .seconds(1), maximum: .seconds(30), multiplier: 3)
        let flat = Backoff(initial: .seconds(2), maximum: .seconds(30), multiplier: 1)
        // When / Then
        #expect(
            (0..<5).map { tripling.delay(attempt: $0) }
                == [.seconds(1), .seconds(3), .seconds(9), .seconds(27), .seconds(30)]
        )
        #expect(flat.delay(attempt: .max) == .seconds(2))
    }

    @Test func jitterStaysWithinBounds() {
        // Given up to 25 % jitter
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(10), jitter: 0.25)
        // When / Then
        #expect(backoff.delay(attempt: 0, random: 0) == .seconds(1))
        #expect(backoff.delay(attempt: 0, random: 0.999_999) <= .milliseconds(1250))
        #expect(backoff.delay(attempt: 1, random: 0.5) == .milliseconds(2250))
        #expect(backoff.delay(attempt: 5, random: 0.999) == .seconds(10))
    }

    @Test func nextCountsAttemptsAndResetStartsOver() {
        // Given a backoff without jitter
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        var generator = SeededGenerator(seed: 1)
        // When three retries fail
        let delays = (0..<3).map { _ in backoff.next(using: &generator) }
        // Then the delays double and the attempts are counted
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
        #expect(backoff.attempt == 3)
        // When a retry succeeds
        backoff.reset()
        // Then the next delay is the initial one again
        #expect(backoff.next(using: &generator) == .milliseconds(100))
    }

    @Test func jitterComesFromTheGeneratorPassedIn() {
        // Given two backoffs with jitter and generators with the same seed
        var first = Backoff(initial: .seconds(1), maximum: .seconds(60), jitter: 0.5)
        var second = first
        var generator1 = SeededGenerator(seed: 42)
        var generator2 = SeededGenerator(seed: 42)
        // When each hands out five delays
        let delays1 = (0..<5).map { _ in first.next(using: &generator1) }
        let delays2 = (0..<5).map { _ in second.next(using: &generator2) }
        // Then the delays are the same, each within its attempt's jitter range
        #expect(delays1 == delays2)
        for (attempt, delay) in delays1.enumerated() {
            let base = first.delay(attempt: attempt)
            #expect(delay >= base && delay <= base * 1.5)
        }
        #expect(delays1.enumerated().contains { $0.element != first.delay(attempt: $0.offset) })
    }
}
