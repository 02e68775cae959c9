// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaSimulator
import RegattaZooKeeper

/// Master failover: two `regatta master --zk` processes contend in ZooKeeper, the simulated agents (in this process)
/// follow `zk://`; once every agent is registered with the leader, the leader is killed with SIGKILL and the time
/// until every agent is registered with the new leader is measured.
///
/// A crashed leader's election node lives until its ZooKeeper session expires, so the figure includes up to the
/// masters' session timeout (`--zk_session_timeout`), as it does for Mesos.
enum MasterFailoverScenario {
    static func run(options: BenchOptions, logger: Logger) async throws -> BenchReport {
        let agents = options.agents ?? 10_000
        guard agents > 0 else { throw BenchError(.invalidArgument, "master-failover needs at least one agent.") }
        guard let zk = options.zk, !zk.isEmpty else {
            throw BenchError(
                .invalidArgument,
                "master-failover needs ZooKeeper: pass --zk host:port (scripts/services.sh start --only zookeeper prints REGATTA_TEST_ZK)."
            )
        }
        guard let command = options.regattaCommand else {
            throw BenchError(
                .invalidArgument,
                "master-failover starts masters as child processes; it needs the 'regatta' command."
            )
        }
        let removeWorkDir = options.workDir == nil
        let workDir =
            options.workDir ?? (NSTemporaryDirectory() + "regatta-bench-" + UUID().uuidString.prefix(8).lowercased())
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        defer { if removeWorkDir { try? FileManager.default.removeItem(atPath: workDir) } }
        let url = "zk://\(zk)/regatta-bench-\(UUID().uuidString.prefix(8).lowercased())"
        let sessionSeconds = max(1, Int((options.zkSessionTimeout.milliseconds / 1000).rounded()))

        // Two masters.
        var masters: [(port: Int, process: SimulatorProcess)] = []
        func stopMasters() async {
            for master in masters { await master.process.stop() }
        }
        do {
            for index in 0..<2 {
                let port = try LoopbackPort.free()
                let process = try SimulatorProcess.start(
                    command: command,
                    arguments: [
                        "master", "--ip", "127.0.0.1", "--hostname", "127.0.0.1", "--port", String(port),
                        "--work_dir", "\(workDir)/master-\(index)", "--zk", url, "--quorum", "1",
                        "--zk_session_timeout", "\(sessionSeconds)secs",
                    ],
                    logPath: "\(workDir)/master-\(index).log",
                    what: "a master"
                )
                masters.append((port, process))
                try await LoopbackPort.waitUntilListening(port, timeout: .seconds(30))
            }
        } catch {
            await stopMasters()
            throw error
        }

        // Agents following zk://.
        var configuration = AgentSimulator.Configuration(master: url)
        configuration.agents = agents
        var simulatorLogger = logger
        simulatorLogger.logLevel = options.serviceLogLevel
        let simulator: AgentSimulator
        do {
            simulator = try AgentSimulator(
                configuration: configuration,
                masterDetector: ZooKeeperMasterDetector.factory(logger: simulatorLogger),
                logger: simulatorLogger
            )
        } catch {
            await stopMasters()
            throw BenchError(.setupFailed, "Cannot create the simulator: \(error).")
        }
        let runner = BackgroundService.start { try await simulator.run() }
        do {
            let report = try await self.measure(
                simulator: simulator,
                masters: masters,
                agents: agents,
                sessionSeconds: sessionSeconds,
                logger: logger
            )
            await runner.stop()
            await stopMasters()
            return report
        } catch {
            await runner.stop()
            await stopMasters()
            throw error
        }
    }

    private static func measure(
        simulator: AgentSimulator,
        masters: [(port: Int, process: SimulatorProcess)],
        agents: Int,
        sessionSeconds: Int,
        logger: Logger
    ) async throws -> BenchReport {
        let registrationTimeout = Duration.seconds(max(120, agents / 50))
        // The first leader, once every agent is registered with it.
        let deadline = ContinuousClock.now + .seconds(60)
        var leader = simulator.detectedLeader
        while leader == nil {
            if ContinuousClock.now >= deadline {
                throw BenchError(
                    .setupFailed,
                    "No master was elected within 60 s; see the master logs in the work directory."
                )
            }
            try await Task.sleep(for: .milliseconds(20))
            leader = simulator.detectedLeader
        }
        guard let first = leader, let leaderIndex = masters.firstIndex(where: { $0.port == first.port }) else {
            throw BenchError(.setupFailed, "The elected master \(leader.map { "\($0)" } ?? "?") is not one of ours.")
        }
        let registerStart = ContinuousClock.now
        do {
            try await simulator.waitUntilRegistered(withMaster: first.hostPort, agents, timeout: registrationTimeout)
        } catch {
            throw BenchError(.timedOut, "\(error)")
        }
        let registered = ContinuousClock.now - registerStart
        logger.info(
            "All agents registered; killing the leader",
            metadata: ["leader": "\(first)", "agents": "\(agents)"]
        )

        // Kill the leader; wait for every agent at the other master.
        let survivor = masters[1 - leaderIndex]
        let survivorAddress = "127.0.0.1:\(survivor.port)"
        let failuresBefore = simulator.statistics.subscribeFailures
        let killedAt = ContinuousClock.now
        masters[leaderIndex].process.crash()
        // Sample how many agents are back every 5 ms, for the median and 99th-percentile agent.
        var halfBack: ContinuousClock.Instant?
        var mostBack: ContinuousClock.Instant?
        let backDeadline = killedAt + registrationTimeout
        while ContinuousClock.now < backDeadline {
            let back = simulator.statistics.registeredAgentsByMaster[survivorAddress] ?? 0
            if halfBack == nil, back * 2 >= agents { halfBack = .now }
            if mostBack == nil, back * 100 >= agents * 99 { mostBack = .now }
            if back >= agents { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let last: ContinuousClock.Instant
        do {
            last = try await simulator.waitUntilRegistered(withMaster: survivorAddress, agents, timeout: .seconds(1))
        } catch {
            throw BenchError(.timedOut, "\(error)")
        }
        var report = BenchReport(scenario: BenchScenario.masterFailover.rawValue)
        report.set("agents", agents)
        report.set("zk_session_timeout_s", Double(sessionSeconds))
        report.set("initial_registration_s", registered.inSeconds)
        report.set("failover_s", (last - killedAt).inSeconds)
        if let change = simulator.lastLeaderChange, change.leader?.port == survivor.port {
            report.set("new_leader_detected_s", (change.at - killedAt).inSeconds)
            report.set("reregistration_after_detection_s", (last - change.at).inSeconds)
            if let halfBack { report.set("reregistration_p50_after_detection_s", (halfBack - change.at).inSeconds) }
            if let mostBack { report.set("reregistration_p99_after_detection_s", (mostBack - change.at).inSeconds) }
        }
        report.set("subscribe_failures_during_failover", simulator.statistics.subscribeFailures - failuresBefore)
        if let peak = ProcessMemory.peakResidentBytes(pid: survivor.process.pid) {
            report.set("new_leader_peak_rss_mib", Double(peak) / 1_048_576)
        }
        report.notes.append(
            "failover_s: SIGKILL of the leader → the last agent's REGISTERED from the new leader; it includes the dead leader's ZooKeeper session expiry (zk_session_timeout_s)."
        )
        report.notes.append(
            "reregistration_*_after_detection_s: from the simulator's detector seeing the new leader (Mesos's failover figure starts at the election) to the median, 99th-percentile and last agent back; subscribe_failures_during_failover counts SUBSCRIBEs that failed (timeouts, refused connections) and were retried."
        )
        return report
    }
}
