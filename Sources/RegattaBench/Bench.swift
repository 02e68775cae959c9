// SPDX-License-Identifier: Apache-2.0
import Logging

/// Runs Regatta's scale benchmarks (see `docs/benchmarks.md`).
///
/// ```swift
/// var options = BenchOptions()
/// options.agents = 50
/// options.instances = 500
/// let report = try await Bench.run(.deployOneApp, options: options, logger: logger)
/// print(report.jsonLine)
/// ```
public enum Bench {
    /// Runs one scenario and returns its figures, with the process's peak RSS added.
    ///
    /// - Throws: ``BenchError`` for bad options, a cluster that cannot start, or a scenario that times out.
    public static func run(_ scenario: BenchScenario, options: BenchOptions, logger: Logger) async throws -> BenchReport
    {
        var logger = logger
        logger[metadataKey: LogKey.scenario] = "\(scenario.rawValue)"
        var report: BenchReport
        switch scenario {
        case .allocator:
            report = try AllocatorScenario.run(options: options, logger: logger)
        case .deployOneApp:
            report = try await DeployScenarios.oneApp(options: options, logger: logger)
        case .deployConstrained:
            report = try await DeployScenarios.constrained(options: options, logger: logger)
        case .api:
            report = try await APIScenario.run(options: options, logger: logger)
        case .realLaunch:
            report = try await RealLaunchScenario.run(options: options, logger: logger)
        case .masterFailover:
            report = try await MasterFailoverScenario.run(options: options, logger: logger)
        case .codec:
            report = try CodecScenario.run(options: options, logger: logger)
        case .exhaustion:
            report = try await ExhaustionScenario.run(options: options, logger: logger)
        }
        if let peak = ProcessMemory.peakResidentBytes() {
            report.set("peak_rss_mib", Double(peak) / 1_048_576)
            switch scenario {
            case .allocator:
                report.notes.append("peak_rss_mib is this process's VmHWM (the master states built for the rounds).")
            case .realLaunch:
                report.notes.append("peak_rss_mib is this process's VmHWM: master and agent run in-process.")
            case .codec:
                report.notes.append("peak_rss_mib is this process's VmHWM (the benchmark's messages).")
            case .exhaustion:
                report.notes.append("peak_rss_mib is this process's VmHWM: master, scheduler and attackers in-process.")
            case .masterFailover:
                report.notes.append(
                    "peak_rss_mib is this process's VmHWM: the simulated agents; the masters run in child processes (new_leader_peak_rss_mib)."
                )
            default:
                report.notes.append(
                    "peak_rss_mib is this process's VmHWM: master and scheduler run in-process"
                        + (report["simulator"] == .string("in-process")
                            ? ", and so do the simulated agents." : "; the simulated agents run in a child process.")
                )
            }
        }
        return report
    }
}
