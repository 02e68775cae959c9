// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore

/// Read latency under concurrent clients: `GET /v2/apps?embed=apps.tasks` with `apps` apps of `instances`
/// instances each, and `GET /master/state` with `agents` agents and `tasks` tasks on the master.
///
/// The apps are deployed through the scheduler; the remaining tasks come from a second framework that talks
/// to the master directly, so the master holds `tasks` tasks in all.
enum APIScenario {
    static func run(options: BenchOptions, logger: Logger) async throws -> BenchReport {
        let agents = options.agents ?? 10_000
        let apps = options.apps ?? 1_000
        let perApp = options.instances ?? 10
        let tasks = max(options.tasks ?? 100_000, apps * perApp)
        let clients = max(1, options.clients)
        let requests = max(1, options.requests)
        guard agents > 0, apps > 0, perApp > 0 else {
            throw BenchError(.invalidArgument, "The api scenario needs at least one agent, app and instance.")
        }
        return try await BenchCluster.with(options: options, agents: agents, scheduler: true, logger: logger) {
            cluster in
            // Apps through the scheduler.
            let ids = (0..<apps).map { String(format: "/api-%05d", $0) }
            var postedAt: [String: ContinuousClock.Instant] = [:]
            for chunk in stride(from: 0, to: ids.count, by: 8) {
                try await withThrowingTaskGroup(of: (String, ContinuousClock.Instant).self) { group in
                    for id in ids[chunk..<min(chunk + 8, ids.count)] {
                        group.addTask {
                            let time = ContinuousClock.now
                            try await cluster.postApp([
                                "id": id, "cmd": "sleep 1000000", "cpus": 0.01, "mem": 8, "instances": perApp,
                                "portDefinitions": [] as [Any],
                            ])
                            return (id, time)
                        }
                    }
                    for try await (id, time) in group { postedAt[id] = time }
                }
            }
            let deployStart = postedAt.values.min() ?? ContinuousClock.now
            _ = try await cluster.waitForRunning(apps: postedAt, total: apps * perApp, timeout: options.timeout)
            let deployed = ContinuousClock.now - deployStart

            // The other tasks from a framework of their own.
            let extra = tasks - apps * perApp
            let framework = try await InProcessFramework.subscribe(to: cluster.master, name: "api-bench")
            let pump = BackgroundService.start { await framework.run() }
            let launchStart = ContinuousClock.now
            if extra > 0 {
                let perOffer = max(1, extra / agents + 1)
                await framework.enqueue(count: extra, shape: .init(maxPerOffer: perOffer))
                try await framework.waitUntil(timeout: options.timeout) { $0.running >= extra }
            }
            let launched = ContinuousClock.now - launchStart
            let masterTasks = await cluster.master.snapshot.tasks.count

            // Measure.
            guard let schedulerPort = cluster.schedulerPort else { throw BenchError(.setupFailed, "No scheduler.") }
            let appsURL = "http://127.0.0.1:\(schedulerPort)/v2/apps?embed=apps.tasks"
            let stateURL = "http://127.0.0.1:\(cluster.masterPort)/master/state"
            logger.info("Measuring", metadata: [LogKey.scenario: "api", "url": "\(appsURL)"])
            let (appsLatency, appsBytes) = try await Self.measure(
                cluster: cluster,
                url: appsURL,
                clients: clients,
                requests: requests
            )
            logger.info("Measuring", metadata: [LogKey.scenario: "api", "url": "\(stateURL)"])
            let (stateLatency, stateBytes) = try await Self.measure(
                cluster: cluster,
                url: stateURL,
                clients: clients,
                requests: requests
            )
            await pump.stop()

            var report = BenchReport(scenario: BenchScenario.api.rawValue)
            report.set("agents", agents)
            report.set("apps", apps)
            report.set("instances", apps * perApp)
            report.set("master_tasks", masterTasks)
            report.set("clients", clients)
            report.set("requests", requests)
            report.set("store", cluster.storeKind)
            report.set("scheduler_deploy_instances_per_second", Double(apps * perApp) / max(deployed.inSeconds, 1e-9))
            report.set("master_only_tasks", extra)
            report.set("master_only_tasks_per_second", extra > 0 ? Double(extra) / max(launched.inSeconds, 1e-9) : 0)
            report.set("v2_apps_p50_ms", appsLatency.median)
            report.set("v2_apps_p99_ms", appsLatency.p99)
            report.set("v2_apps_bytes", appsBytes)
            report.set("master_state_p50_ms", stateLatency.median)
            report.set("master_state_p99_ms", stateLatency.p99)
            report.set("master_state_bytes", stateBytes)
            report.set("simulator", cluster.simulatorPlacement)
            if let simulatorPeak = cluster.simulatorPeakResidentBytes {
                report.set("simulator_peak_rss_mib", Double(simulatorPeak) / 1_048_576)
            }
            report.notes.append(
                "master_only_tasks were launched by a framework talking to the master directly (no scheduler): ACCEPT → TASK_RUNNING on the simulated agents."
            )
            report.notes.append(
                "Each endpoint is read \(requests) times by \(clients) concurrent clients; latency is per request, to the last body byte."
            )
            return report
        }
    }

    /// Reads `url` `requests` times from `clients` concurrent clients; returns the latencies in ms and the
    /// size of the last body.
    static func measure(
        cluster: BenchCluster,
        url: String,
        clients: Int,
        requests: Int
    ) async throws
        -> (Percentiles, Int)
    {
        let results = try await withThrowingTaskGroup(of: [(Double, Int)].self) { group in
            for client in 0..<clients {
                let count = requests / clients + (client < requests % clients ? 1 : 0)
                group.addTask {
                    var samples: [(Double, Int)] = []
                    for _ in 0..<count {
                        let start = ContinuousClock.now
                        let (status, bytes) = try await cluster.get(url)
                        guard status == 200 else {
                            throw BenchError(.setupFailed, "GET \(url) answered \(status).")
                        }
                        samples.append(((ContinuousClock.now - start).milliseconds, bytes))
                    }
                    return samples
                }
            }
            var all: [(Double, Int)] = []
            for try await samples in group { all += samples }
            return all
        }
        return (Percentiles(results.map(\.0)), results.last?.1 ?? 0)
    }
}
