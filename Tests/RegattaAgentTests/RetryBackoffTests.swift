// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import RegattaAgent

@Suite struct RetryBackoffTests {
    @Test func doublesFromInitialToMaximum() {
        let backoff = RetryBackoff(initial: .milliseconds(500), maximum: .seconds(10))
        let delays = (0..<8).map { backoff.delay(attempt: $0) }
        #expect(
            delays == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10),
                .seconds(10),
            ])
        #expect(backoff.delay(attempt: 10_000) == .seconds(10))
    }

    @Test func jitterStaysWithinBounds() {
        let backoff = RetryBackoff(initial: .seconds(1), maximum: .seconds(10), jitter: 0.25)
        #expect(backoff.delay(attempt: 0, random: 0) == .seconds(1))
        #expect(backoff.delay(attempt: 0, random: 0.999_999) <= .milliseconds(1250))
        #expect(backoff.delay(attempt: 1, random: 0.5) == .milliseconds(2250))
        #expect(backoff.delay(attempt: 5, random: 0.999) == .seconds(10))
    }
}
