// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaBench
import Testing

/// Every bench scenario end to end at a tiny size (seconds): the real master, scheduler (SQLite), agent or
/// simulated agents on loopback.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BenchScenarioTests {
    private func options() -> BenchOptions {
        var options = BenchOptions()
        options.simulator = .inProcess
        options.allocationInterval = .milliseconds(100)
        options.sampleInterval = .milliseconds(20)
        options.timeout = .seconds(60)
        return options
    }

    @Test func allocatorRoundOffersEveryAgent() async throws {
        var options = self.options()
        options.agents = 200
        options.frameworks = 20
        options.rounds = 2
        let report = try await Bench.run(.allocator, options: options, logger: Logger(label: "test.bench"))
        #expect(report.number("offers_per_round") == 200)
        #expect((report.number("ms_per_round_median") ?? 0) > 0)
        #expect(report.jsonLine.hasPrefix("{\"scenario\":\"allocator\""))
    }

    @Test func deployOneAppRunsEveryInstance() async throws {
        var options = self.options()
        options.agents = 20
        options.instances = 200
        let report = try await Bench.run(.deployOneApp, options: options, logger: Logger(label: "test.bench"))
        #expect(report.number("instances") == 200)
        #expect((report.number("instances_per_second") ?? 0) > 0)
        let p50 = try #require(report.number("latency_p50_ms"))
        let p99 = try #require(report.number("latency_p99_ms"))
        #expect(p50 > 0 && p50 <= p99)
        #expect((report.number("peak_rss_mib") ?? 0) > 0)
    }

    @Test func deployConstrainedHonoursTheConstraints() async throws {
        var options = self.options()
        options.agents = 20
        options.apps = 10
        options.instances = 5
        let report = try await Bench.run(.deployConstrained, options: options, logger: Logger(label: "test.bench"))
        #expect(report.number("instances") == 50)
        #expect(report.number("constraint_violations") == 0)
    }

    @Test func apiMeasuresBothEndpoints() async throws {
        var options = self.options()
        options.agents = 10
        options.apps = 5
        options.instances = 2
        options.tasks = 40
        options.requests = 10
        let report = try await Bench.run(.api, options: options, logger: Logger(label: "test.bench"))
        #expect(report.number("master_tasks") == 40)
        #expect((report.number("v2_apps_p99_ms") ?? 0) > 0)
        #expect((report.number("master_state_bytes") ?? 0) > 1000)
    }

    @Test func realLaunchRunsRealProcesses() async throws {
        var options = self.options()
        options.tasks = 20
        let report = try await Bench.run(.realLaunch, options: options, logger: Logger(label: "test.bench"))
        #expect(report.number("finished") == 20)
        #expect((report.number("ratio_percent") ?? 0) > 0)
    }
}
