// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaSimulator
import Testing

@Suite struct TaskBehaviourTests {
    @Test func environmentOverridesTheDefaults() {
        // Given a default behaviour and a command that overrides every key
        let defaults = TaskBehaviour(runFor: .seconds(1))
        let command = CommandInfo.shell(
            "x",
            environment: [
                TaskBehaviour.EnvironmentKey.runFor: "250ms",
                TaskBehaviour.EnvironmentKey.failureProbability: "0.5",
                TaskBehaviour.EnvironmentKey.crashOnStartProbability: "1",
                TaskBehaviour.EnvironmentKey.startDelay: "2secs",
            ]
        )

        // When / Then
        let behaviour = defaults.overridden(by: command)
        #expect(behaviour.runFor == .milliseconds(250))
        #expect(behaviour.failureProbability == 0.5)
        #expect(behaviour.crashOnStartProbability == 1)
        #expect(behaviour.startDelay == .seconds(2))
    }

    @Test func foreverAndMalformedValues() {
        let defaults = TaskBehaviour(runFor: .seconds(1), failureProbability: 0.1)
        let behaviour = defaults.overridden(
            by: .shell(
                "x",
                environment: [
                    TaskBehaviour.EnvironmentKey.runFor: "forever",
                    TaskBehaviour.EnvironmentKey.failureProbability: "2",
                ]
            )
        )
        #expect(behaviour.runFor == nil)
        #expect(behaviour.failureProbability == 0.1)
        #expect(defaults.overridden(by: nil) == defaults)
    }

    @Test func backoffDoublesUpToItsCap() {
        let policy = Backoff(initial: .milliseconds(500), maximum: .seconds(10), jitter: 0.25)
        #expect(policy.delay(attempt: 0) == .milliseconds(500))
        #expect(policy.delay(attempt: 3) == .seconds(4))
        #expect(policy.delay(attempt: 40) == .seconds(10))
        #expect(policy.delay(attempt: 3, random: 0.5) == .seconds(4.5))
        #expect(policy.delay(attempt: 4, random: 0.99) < .seconds(10))
        #expect(policy.delay(attempt: 5, random: 0.99) == .seconds(10))
    }
}
