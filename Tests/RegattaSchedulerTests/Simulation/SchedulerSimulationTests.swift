// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaSchedulerTestKit
import RegattaTestKit
import Testing

/// Seeded simulations: a few hundred random steps with every fault injected, invariants checked after each step,
/// then the faults stop and the cluster must settle on exactly what the apps ask for. A failure prints its seed;
/// `SchedulerHarness(seed:)` with it replays the run.
@Suite struct SchedulerSimulationTests {
    static let seeds: [UInt64] = [1, 2, 3, 42, 1234, 2024, 65_536, 9_999_999]

    /// The apps every simulation starts with: plain, hostname:UNIQUE, and small ones without ports.
    static let apps = [
        Fixture.app(id: "/web", instances: 3, cpus: 0.5, memMB: 64),
        Fixture.app(id: "/unique", instances: 3, cpus: 0.5, memMB: 64, constraints: [["hostname", "UNIQUE"]]),
        Fixture.app(id: "/batch", instances: 4, cpus: 0.25, memMB: 32, ports: 0),
    ]

    static func run(
        seed: UInt64,
        steps: Int = 400,
        configuration: SchedulerState.Configuration? = nil
    ) async throws
        -> SchedulerHarness
    {
        // Given
        let h = SchedulerHarness(seed: seed, agents: 5, faults: .all, configuration: configuration)
        h.subscribe()
        for app in Self.apps { h.send(.createApp(app)) }
        // When
        try await h.simulate(steps: steps)
        h.faults = .init()
        try await h.converge()
        // Then
        try h.assertInvariants()
        return h
    }

    @Test(arguments: Self.seeds)
    func survivesFaultsAndConverges(seed: UInt64) async throws {
        do {
            let h = try await Self.run(seed: seed)
            #expect(!h.launched.isEmpty)
        } catch let violation as SchedulerHarness.InvariantViolation {
            Issue.record("\(violation)")
        }
    }

    @Test(arguments: [UInt64(5), 77, 31_337])
    func aNarrowLaunchWindowIsNeverExceeded(seed: UInt64) async throws {
        var configuration = SchedulerState.Configuration()
        configuration.maxLaunchesInFlight = 2
        configuration.reconciliationInterval = .seconds(30)
        configuration.killRetryInterval = .seconds(10)
        do {
            _ = try await Self.run(seed: seed, configuration: configuration)
        } catch let violation as SchedulerHarness.InvariantViolation {
            Issue.record("\(violation)")
        }
    }

    /// A fresh seed on every run, printed so a failure can be replayed with `SchedulerHarness(seed:)`.
    ///
    /// Known issue, and only this one: when the write of the framework id fails (an injected store outage), the
    /// machine logs it at error level, which the harness counts as a violation (about one random seed in twelve).
    /// Whether that is a broken invariant or an outage to retry is still open; any other violation fails the test.
    @Test func aRandomSeedToo() async throws {
        let seed = UInt64.random(in: 0..<UInt64.max)
        print("SchedulerSimulationTests.aRandomSeedToo: seed \(seed)")
        do {
            _ = try await Self.run(seed: seed)
        } catch let violation as SchedulerHarness.InvariantViolation {
            if Self.isFrameworkIDWriteFailure(violation) {
                withKnownIssue("a failed write of the framework id is logged as an error (see the doc comment)") {
                    Issue.record("\(violation)")
                }
            } else {
                Issue.record("\(violation)")
            }
        }
    }

    static func isFrameworkIDWriteFailure(_ violation: SchedulerHarness.InvariantViolation) -> Bool {
        violation.problems.allSatisfy { $0.hasPrefix("error logged: Could not store the framework id") }
    }

    /// Seed 10715761898262355084 found, at step 143, an ACCEPT sent for an instance of an app removed while the
    /// ACCEPT was queued behind other calls (the removal's write had dropped the instance's record).
    @Test func theSeedThatFoundTheDeletedAppLaunch() async throws {
        do {
            _ = try await Self.run(seed: 10_715_761_898_262_355_084)
        } catch let violation as SchedulerHarness.InvariantViolation {
            Issue.record("\(violation)")
        }
    }
}
