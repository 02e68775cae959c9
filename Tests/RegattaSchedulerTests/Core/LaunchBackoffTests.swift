// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

@Suite struct LaunchBackoffTests {
    @Test func delaysGrowByTheFactorUpToTheMaximumAndReset() {
        var app = Fixture.app()
        app.backoffSeconds = 1
        app.backoffFactor = 2
        app.maxLaunchDelaySeconds = 5
        var backoff = LaunchBackoff()
        var seconds: [Double] = []
        for _ in 0..<5 {
            backoff.taskFailed(app, now: .seconds(100))
            seconds.append(backoff.delays["/web"]!.seconds)
        }
        #expect(seconds == [1, 2, 4, 5, 5])
        #expect(backoff.isDelayed("/web", now: .seconds(104)))
        #expect(!backoff.isDelayed("/web", now: .seconds(105)))
        #expect(backoff.nextEnd(after: .seconds(100)) == .seconds(105))
        backoff.reset("/web")
        #expect(!backoff.isDelayed("/web", now: .seconds(100)))
    }
}
