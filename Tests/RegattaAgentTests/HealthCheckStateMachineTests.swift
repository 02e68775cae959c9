// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaAgent

@Suite struct HealthCheckStateMachineTests {
    private let clock = ManualClock()

    /// Runs one check at the current time with `result` and returns the actions.
    private func check(
        _ machine: inout HealthCheckStateMachine,
        _ result: HealthCheckStateMachine.Result
    ) -> [HealthCheckStateMachine.Action] {
        #expect(machine.isDue(now: self.clock.uptimeNow))
        _ = machine.checkStarted(now: self.clock.uptimeNow)
        return machine.checkCompleted(result, now: self.clock.uptimeNow)
    }

    @Test func appliesMesosDefaults() {
        // Given a check with nothing but its type
        let settings = HealthCheckStateMachine.Settings(HealthCheck(type: .tcp, tcp: .init(port: 80)))
        // Then
        #expect(settings.delay == .seconds(15))
        #expect(settings.interval == .seconds(10))
        #expect(settings.timeout == .seconds(20))
        #expect(settings.consecutiveFailures == 3)
        #expect(settings.gracePeriod == .seconds(10))
    }

    @Test func firstCheckWaitsForTheDelayThenRunsEveryInterval() {
        // Given
        var machine = HealthCheckStateMachine(
            settings: .init(HealthCheck(type: .command, delaySeconds: 5, intervalSeconds: 2)),
            startedAt: self.clock.uptimeNow
        )
        // Then nothing runs before the delay
        self.clock.advance(by: .milliseconds(4999))
        #expect(!machine.isDue(now: self.clock.uptimeNow))
        self.clock.advance(by: .milliseconds(1))
        // When the first check starts, it times out after the timeout
        #expect(machine.checkStarted(now: self.clock.uptimeNow) == self.clock.uptimeNow + .seconds(20))
        #expect(!machine.isDue(now: self.clock.uptimeNow + .seconds(100)), "one check at a time")
        self.clock.advance(by: .seconds(1))
        _ = machine.checkCompleted(.healthy, now: self.clock.uptimeNow)
        // Then the next one is an interval after the previous ended
        #expect(machine.nextCheckAt == self.clock.uptimeNow + .seconds(2))
    }

    @Test func reportsTheFirstResultAndOnlyChangesAfterwards() {
        // Given
        var machine = HealthCheckStateMachine(
            settings: .init(HealthCheck(type: .command, delaySeconds: 0, intervalSeconds: 1, consecutiveFailures: 5)),
            startedAt: self.clock.uptimeNow
        )
        var reports: [[HealthCheckStateMachine.Action]] = []
        // When the task is healthy twice, fails twice, then recovers
        for result in [
            HealthCheckStateMachine.Result.healthy, .healthy, .unhealthy("500"), .unhealthy("500"), .healthy,
        ] {
            reports.append(self.check(&machine, result))
            self.clock.advance(by: .seconds(1))
        }
        // Then
        #expect(reports == [[.report(healthy: true)], [], [.report(healthy: false)], [], [.report(healthy: true)]])
        #expect(machine.consecutiveFailures == 0)
    }

    @Test func ignoresFailuresDuringTheGracePeriodUntilTheFirstSuccess() {
        // Given a 10 s grace period and checks every second
        var machine = HealthCheckStateMachine(
            settings: .init(HealthCheck(type: .command, delaySeconds: 0, intervalSeconds: 1, consecutiveFailures: 2)),
            startedAt: self.clock.uptimeNow
        )
        // When it fails for 9 s
        for _ in 0..<10 {
            #expect(self.check(&machine, .unhealthy("connection refused")).isEmpty)
            self.clock.advance(by: .seconds(1))
        }
        // Then nothing was counted; the first failure after the grace period is reported
        #expect(machine.consecutiveFailures == 0)
        #expect(self.check(&machine, .unhealthy("connection refused")) == [.report(healthy: false)])
        #expect(machine.consecutiveFailures == 1)
    }

    @Test func failuresCountAfterTheFirstSuccessEvenWithinTheGracePeriod() {
        // Given
        var machine = HealthCheckStateMachine(
            settings: .init(HealthCheck(type: .command, delaySeconds: 0, intervalSeconds: 1, consecutiveFailures: 2)),
            startedAt: self.clock.uptimeNow
        )
        #expect(self.check(&machine, .healthy) == [.report(healthy: true)])
        self.clock.advance(by: .seconds(1))
        // When it fails twice within 10 s of the start
        #expect(self.check(&machine, .unhealthy("x")) == [.report(healthy: false)])
        self.clock.advance(by: .seconds(1))
        // Then the task is killed at the second failure and checks stop
        #expect(self.check(&machine, .unhealthy("x")) == [.kill(failures: 2)])
        #expect(machine.isStopped)
        #expect(!machine.isDue(now: self.clock.uptimeNow + .seconds(60)))
        #expect(machine.checkCompleted(.unhealthy("late"), now: self.clock.uptimeNow).isEmpty)
    }

    @Test func killsAfterConsecutiveFailuresOnly() {
        // Given 3 allowed failures
        var machine = HealthCheckStateMachine(
            settings: .init(HealthCheck(type: .command, delaySeconds: 0, intervalSeconds: 1, gracePeriodSeconds: 0)),
            startedAt: self.clock.uptimeNow
        )
        var actions: [HealthCheckStateMachine.Action] = []
        // When failures are interrupted by a success
        for result in [
            HealthCheckStateMachine.Result.unhealthy("a"), .unhealthy("b"), .healthy, .unhealthy("c"), .unhealthy("d"),
        ] {
            actions += self.check(&machine, result)
            self.clock.advance(by: .seconds(1))
        }
        // Then it is not killed
        #expect(!actions.contains(.kill(failures: 3)))
        // And the third in a row kills it, reporting unhealthy once
        actions = self.check(&machine, .unhealthy("e"))
        #expect(actions == [.kill(failures: 3)])
    }

    @Test func zeroConsecutiveFailuresNeverKills() {
        // Given
        var machine = HealthCheckStateMachine(
            settings: .init(
                HealthCheck(
                    type: .command,
                    delaySeconds: 0,
                    intervalSeconds: 1,
                    consecutiveFailures: 0,
                    gracePeriodSeconds: 0
                )
            ),
            startedAt: self.clock.uptimeNow
        )
        // When
        var actions: [HealthCheckStateMachine.Action] = []
        for _ in 0..<20 {
            actions += self.check(&machine, .unhealthy("down"))
            self.clock.advance(by: .seconds(1))
        }
        // Then
        #expect(actions == [.report(healthy: false)])
        #expect(!machine.isStopped)
    }
}
