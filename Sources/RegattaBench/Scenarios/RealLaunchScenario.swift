// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaAgent
import RegattaCore

#if canImport(Glibc)
import Glibc
#endif

/// Real command tasks on one real agent (``AgentService`` in-process, launched through the master by a
/// framework) against a raw loop that spawns the same commands: tasks per second of each, and their ratio.
enum RealLaunchScenario {
    static func run(options: BenchOptions, logger: Logger) async throws -> BenchReport {
        let tasks = options.tasks ?? 500
        guard tasks > 0 else { throw BenchError(.invalidArgument, "real-launch needs at least one task.") }
        return try await BenchCluster.with(options: options, agents: 0, scheduler: false, logger: logger) { cluster in
            var serviceLogger = logger
            serviceLogger.logLevel = options.serviceLogLevel
            var configuration = AgentConfiguration(master: "127.0.0.1:\(cluster.masterPort)")
            configuration.port = try LoopbackPort.free()
            configuration.workDir = cluster.workDir + "/agent"
            configuration.hostname = "real-agent"
            configuration.resources = try Resources.parse(
                "cpus:\(Double(tasks) * 0.01 + 1);mem:\(tasks * 8 + 1024);disk:10240;ports:[31000-32000]"
            )
            let agent = AgentService(configuration: configuration, logger: serviceLogger)
            let running = BackgroundService.start(service: agent, logger: serviceLogger)
            do {
                let deadline = ContinuousClock.now + .seconds(30)
                while await cluster.activeAgents() < 1 {
                    if ContinuousClock.now >= deadline {
                        throw BenchError(.setupFailed, "The real agent did not register within 30 s.")
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
                let framework = try await InProcessFramework.subscribe(to: cluster.master, name: "real-launch")
                let pump = BackgroundService.start { await framework.run() }
                let command = CommandInfo(shell: false, value: "/bin/true", arguments: ["true"])
                let start = ContinuousClock.now
                await framework.enqueue(
                    count: tasks,
                    shape: .init(cpus: 0.01, memMB: 8, command: command, maxPerOffer: tasks)
                )
                try await framework.waitUntil(timeout: options.timeout) { $0.terminalTotal >= tasks }
                let regatta = ContinuousClock.now - start
                let summary = await framework.currentSummary
                let times = await framework.taskTimes.values
                let toRunning = Percentiles(times.compactMap { $0.runningAt.map { ($0 - start).milliseconds } })
                let runningToEnd = Percentiles(
                    times.compactMap { time in
                        guard let running = time.runningAt, let end = time.terminalAt else { return nil }
                        return (end - running).milliseconds
                    }
                )
                await pump.stop()
                await running.stop()

                let raw = try RawSpawn.run(path: "/bin/true", count: tasks)
                var report = BenchReport(scenario: BenchScenario.realLaunch.rawValue)
                report.set("tasks", tasks)
                report.set("finished", summary.terminal[.finished] ?? 0)
                report.set("regatta_s", regatta.inSeconds)
                report.set("regatta_tasks_per_second", Double(tasks) / regatta.inSeconds)
                report.set("raw_s", raw.inSeconds)
                report.set("raw_tasks_per_second", Double(tasks) / raw.inSeconds)
                report.set("ratio_percent", 100 * raw.inSeconds / regatta.inSeconds)
                report.set("running_after_p50_ms", toRunning.median)
                report.set("running_after_max_ms", toRunning.max)
                report.set("running_to_finished_p50_ms", runningToEnd.median)
                report.set("running_to_finished_max_ms", runningToEnd.max)
                report.notes.append(
                    "Regatta: ACCEPT of \(tasks) tasks of /bin/true on one offer → all TASK_FINISHED seen by the framework (sandbox, spawn, reap, status updates). Raw: posix_spawn of \(tasks) × /bin/true, then waitpid of each."
                )
                return report
            } catch {
                await running.stop()
                throw error
            }
        }
    }
}

/// The baseline: spawn `count` processes of one executable, then reap them all.
enum RawSpawn {
    /// Spawns `path` `count` times (argv `[basename]`, empty environment), then waits for every child.
    ///
    /// - Returns: the time from the first spawn to the last reaped child.
    /// - Throws: ``BenchError`` (`setupFailed`) when a spawn fails.
    static func run(path: String, count: Int) throws -> Duration {
        let start = ContinuousClock.now
        var children: [pid_t] = []
        children.reserveCapacity(count)
        let name = strdup((path as NSString).lastPathComponent)
        defer { free(name) }
        var argv: [UnsafeMutablePointer<CChar>?] = [name, nil]
        var envp: [UnsafeMutablePointer<CChar>?] = [nil]
        for _ in 0..<count {
            var pid: pid_t = 0
            let result = posix_spawn(&pid, path, nil, nil, &argv, &envp)
            guard result == 0 else {
                for child in children {
                    var status: Int32 = 0
                    _ = waitpid(child, &status, 0)
                }
                throw BenchError(.setupFailed, "posix_spawn of \(path) failed with error \(result).")
            }
            children.append(pid)
        }
        for child in children {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        }
        return ContinuousClock.now - start
    }
}
