// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaZooKeeper
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 6's "Done when": a 3-node ZooKeeper ensemble on loopback, 3 masters, 2 schedulers (PostgreSQL) and 3 agents
/// as real processes; kill leaders, cut ZooKeeper sessions, take a ZooKeeper node down, abdicate, and check that no
/// task is lost, duplicated or restarted. Failover times are printed as `HA-TIMING …` lines (docs/benchmarks.md).
@Suite(.serialized) struct HighAvailabilityTests {
    /// Runs `body` on a fresh cluster and always tears it down; on failure the cluster's logs are recorded.
    /// `REGATTA_TEST_HA_SESSION_TIMEOUT` (seconds, default 5) sets every process's `--zk_session_timeout`; use 10 (the
    /// production default) to measure failover times as operators will see them.
    static var sessionTimeoutSeconds: Int {
        ProcessInfo.processInfo.environment["REGATTA_TEST_HA_SESSION_TIMEOUT"].flatMap { Int($0) } ?? 5
    }

    static func withCluster(_ body: (HACluster) async throws -> Void) async throws {
        let cluster = try await HACluster(sessionTimeoutSeconds: Self.sessionTimeoutSeconds)
        print("HA cluster: --zk_session_timeout \(Self.sessionTimeoutSeconds)secs")
        do {
            try await body(cluster)
        } catch {
            Issue.record("\(error)\ncluster logs:\n\(cluster.logs(40))\n\(cluster.ensemble.logs(10))")
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    static func timing(_ name: String, _ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        print("HA-TIMING \(name) \(String(format: "%.2f", seconds))s")
    }

    /// Kills the leading master and measures kill → another master leads and serves `/master/state`, and kill →
    /// every agent re-registered with it. The killed master is restarted (as its supervisor would) once another leads.
    /// Stops agent 2 and waits until the leading master no longer counts it, so that a deployment larger than the
    /// other two agents hold should not finish until it is restarted. It held in local runs and not in one CI run
    /// (why is open), so "the kill lands mid-deployment" stays a known intermittent issue in the tests below.
    static func holdBackAgent2(_ cluster: HACluster) async throws {
        await cluster.kill(.agent, 2)
        try await cluster.eventually("agent 2 no longer active", timeout: .seconds(90)) {
            await cluster.activeAgents() == 2
        }
    }

    static func failOverMaster(
        _ cluster: HACluster,
        agents: Int = 3
    ) async throws -> (
        leader: Duration, agents: Duration
    ) {
        let old = try #require(await cluster.leadingMaster(), "a master leads before the kill")
        let killed = ContinuousClock.now
        await cluster.kill(.master, old)
        try await cluster.eventually("another master leads", timeout: cluster.sessionTimeout + .seconds(30)) {
            guard let leader = await cluster.leadingMaster(), leader != old else { return false }
            return try await HTTP.get("\(cluster.masterURL(leader))/master/state").status == 200
        }
        let leaderTime = ContinuousClock.now - killed
        try await cluster.eventually("\(agents) agents re-registered", timeout: .seconds(90)) {
            await cluster.activeAgents() == agents
        }
        let agentsTime = ContinuousClock.now - killed
        try cluster.restart(.master, old)
        return (leaderTime, agentsTime)
    }

    // MARK: infrastructure

    @Test(.enabled(if: ZooKeeperEnsemble.isAvailable, ZooKeeperEnsemble.skipReason))
    func ensembleKeepsServingWithOneNodeDownAndAProxyCutExpiresASession() async throws {
        let ensemble = try await ZooKeeperEnsemble(nodes: 3)
        let proxies = try TCPProxy.group(upstreamPorts: ensemble.nodes.map(\.clientPort))
        do {
            // Given a client of the whole ensemble and one that reaches it only through the proxies
            let logger = Logger(label: "ha-tests", factory: { _ in SwiftLogNoOpLogHandler() })
            let direct = try await ZooKeeperClient.connect(
                connectionString: ensemble.connectionString,
                sessionTimeout: .seconds(4),
                connectTimeout: .seconds(20),
                logger: logger
            )
            let proxied = try await ZooKeeperClient.connect(
                connectionString: proxies.map { "127.0.0.1:\($0.port)" }.joined(separator: ","),
                sessionTimeout: .seconds(4),
                connectTimeout: .seconds(20),
                logger: logger
            )
            try await direct.create("/ha-infra")
            // When the ZooKeeper leader node is killed, the ensemble still serves writes
            let leader = try #require(await ensemble.leaderIndex())
            await ensemble.stop(leader)
            try await ensemble.waitForQuorum(timeout: .seconds(30))
            // (a client connected to the killed node loses its connection and moves to another node: retry)
            var created = false
            let retryUntil = ContinuousClock.now + .seconds(20)
            while !created && ContinuousClock.now < retryUntil {
                do {
                    try await direct.create("/ha-infra/after-one-down")
                    created = true
                } catch {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            #expect(created, "a write succeeded with one of three nodes down")
            #expect(direct.sessionState == .connected, "the session survived the node's death")
            #expect(await ensemble.leaderIndex() != nil)
            try await ensemble.start(leader)
            // And when every proxy is cut, the proxied client's session ends while the direct one lives on
            #expect(proxied.sessionState == .connected)
            let cut = ContinuousClock.now
            for proxy in proxies { proxy.cut() }
            var lost = false
            while ContinuousClock.now - cut < .seconds(20) {
                if proxied.sessionState != .connected {
                    lost = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(lost, "the proxied client noticed the cut")
            try await Task.sleep(for: .seconds(6))  // > session timeout: the server expires the session
            for proxy in proxies { proxy.restore() }
            var expired = false
            let restored = ContinuousClock.now
            while ContinuousClock.now - restored < .seconds(20) {
                if proxied.sessionState == .expired {
                    expired = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(expired, "after the cut outlived the session timeout, reconnecting reports the session expired")
            #expect(direct.sessionState == .connected)
            try await direct.deleteRecursively("/ha-infra")
            await proxied.close()
            await direct.close()
        } catch {
            Issue.record("\(error)\n\(ensemble.logs())")
            for proxy in proxies { proxy.close() }
            await ensemble.stopAll()
            throw error
        }
        for proxy in proxies { proxy.close() }
        await ensemble.stopAll()
    }

    // MARK: issue 6 "Done when"

    /// SIGKILL of the leading master during a 200-instance deployment: a new leader within the session timeout plus a
    /// few seconds, the deployment completes, and the final task set has no duplicates and no lost instances.
    @Test(.enabled(if: HACluster.isAvailable, HACluster.skipReason))
    func killingTheLeadingMasterDuringA200InstanceDeploymentLosesAndDuplicatesNothing() async throws {
        try await Self.withCluster { cluster in
            // Given a deployment of 200 instances that cannot finish before the kill: with agent 2 stopped, the
            // other two hold at most 160 of them (cpus 0.1 of 8 each)
            try await Self.holdBackAgent2(cluster)
            try await cluster.createApp("/ha-big", instances: 200, cpus: 0.1)
            try await cluster.eventually("30 instances running", timeout: .seconds(180)) {
                try await cluster.runningTaskIDsAtMaster().count >= 30
            }
            let before = Set(try await cluster.runningTaskIDsAtMaster())
            let perAgent = try await cluster.runningTasksPerAgentAtMaster()
            // When the leading master is SIGKILLed (and agent 2 comes back once the new master leads)
            let (leaderTime, agentsTime) = try await Self.failOverMaster(cluster, agents: 2)
            try cluster.restart(.agent, 2)
            Self.timing("master-kill-to-new-leader(200-deploy)", leaderTime)
            Self.timing("master-kill-to-agents-reregistered(200-deploy)", agentsTime)
            // Then a new master leads within the session timeout plus a few seconds
            #expect(leaderTime <= cluster.sessionTimeout + .seconds(8), "new leader after \(leaderTime)")
            // The kill landed mid-deployment by construction: two agents of 8 cpus hold at most 160 instances of 0.1.
            // More would be an over-commit, so the per-agent counts are part of the message.
            #expect(
                perAgent.count <= 2 && perAgent.values.allSatisfy { $0 <= 80 } && before.count < 200,
                "the kill must land mid-deployment: \(before.count) of 200 running before it, per agent \(perAgent)"
            )
            // And the deployment completes with exactly 200 tasks, none lost, none duplicated, none replaced
            let deployed = try await cluster.eventually("the deployment finished", timeout: .seconds(300)) {
                try await cluster.deploymentFinished(app: "/ha-big", instances: 200)
            }
            Self.timing("master-kill-deployment-finished-after-agents", deployed)
            let scheduler = try await cluster.runningTaskIDsAtScheduler(app: "/ha-big")
            let master = try await cluster.runningTaskIDsAtMaster()
            #expect(scheduler.count == 200 && Set(scheduler).count == 200, "scheduler: \(scheduler.count) tasks")
            #expect(master.count == 200 && Set(master).count == 200, "master: \(master.count) running tasks")
            #expect(Set(master) == Set(scheduler))
            #expect(
                before.subtracting(master).isEmpty,
                "tasks running before the kill are gone: \(before.subtracting(master))"
            )
        }
    }

    /// SIGKILL of the leading scheduler mid-deployment: the other takes over, finishes it, and running instances keep
    /// their task ids.
    @Test(.enabled(if: HACluster.isAvailable, HACluster.skipReason))
    func killingTheLeadingSchedulerMidDeploymentLetsTheOtherFinishIt() async throws {
        try await Self.withCluster { cluster in
            // Given a deployment of 120 instances that cannot finish before the kill: with agent 2 stopped, the
            // other two hold at most 106 of them (cpus 0.15 of 8 each)
            try await Self.holdBackAgent2(cluster)
            try await cluster.createApp("/ha-sched", instances: 120, cpus: 0.15)
            try await cluster.eventually("20 instances running", timeout: .seconds(180)) {
                try await cluster.runningTaskIDsAtMaster().count >= 20
            }
            let before = Set(try await cluster.runningTaskIDsAtMaster())
            let perAgent = try await cluster.runningTasksPerAgentAtMaster()
            let old = try #require(await cluster.leadingScheduler())
            // When the leading scheduler is SIGKILLed
            let killed = ContinuousClock.now
            await cluster.kill(.scheduler, old)
            try await cluster.eventually("the other scheduler leads", timeout: cluster.sessionTimeout + .seconds(30)) {
                guard let leader = await cluster.leadingScheduler(), leader != old else { return false }
                return try await HTTP.get("\(cluster.schedulerURL(leader))/v2/apps").status == 200
            }
            let takeover = ContinuousClock.now - killed
            Self.timing("scheduler-kill-to-new-leader", takeover)
            try cluster.restart(.scheduler, old)
            try cluster.restart(.agent, 2)
            // Then it finishes the deployment, and the instances that ran before keep their ids
            #expect(takeover <= cluster.sessionTimeout + .seconds(8), "new scheduler leader after \(takeover)")
            // Mid-deployment by construction: two agents of 8 cpus hold at most 106 instances of 0.15.
            #expect(
                perAgent.count <= 2 && perAgent.values.allSatisfy { $0 <= 53 } && before.count < 120,
                "the kill must land mid-deployment: \(before.count) of 120 running before it, per agent \(perAgent)"
            )
            try await cluster.eventually("the deployment finished", timeout: .seconds(300)) {
                try await cluster.deploymentFinished(app: "/ha-sched", instances: 120)
            }
            Self.timing("scheduler-kill-to-deployment-finished", ContinuousClock.now - killed)
            let scheduler = try await cluster.runningTaskIDsAtScheduler(app: "/ha-sched")
            let master = try await cluster.runningTaskIDsAtMaster()
            #expect(scheduler.count == 120 && Set(scheduler).count == 120, "scheduler: \(scheduler.count) tasks")
            #expect(master.count == 120 && Set(master).count == 120, "master: \(master.count) running tasks")
            #expect(
                before.subtracting(master).isEmpty,
                "tasks running before the kill are gone: \(before.subtracting(master))"
            )
            try await cluster.eventually("both schedulers agree on the leader", timeout: .seconds(60)) {
                guard await cluster.leadingScheduler() != nil else { return false }
                return (try? await HTTP.get("\(cluster.schedulerURL(old))/v2/leader").status) == 200
            }
        }
    }

    /// The leading master's ZooKeeper session expiring (its connection to the ensemble cut) ends its leadership: it
    /// exits with 101, another master leads, agents follow it, and no task changes.
    @Test(.enabled(if: HACluster.isAvailable, HACluster.skipReason))
    func theLeadingMasterLosingItsZooKeeperSessionStepsDown() async throws {
        try await Self.withCluster { cluster in
            try await cluster.createApp("/ha-zk", instances: 6)
            try await cluster.eventually("6 running", timeout: .seconds(120)) {
                try await cluster.deploymentFinished(app: "/ha-zk", instances: 6)
            }
            let before = Set(try await cluster.runningTaskIDsAtScheduler(app: "/ha-zk"))
            let old = try #require(await cluster.leadingMaster())
            let process = try #require(cluster.masters[old])
            // When its ZooKeeper connection is cut (the ensemble stays up)
            let cut = ContinuousClock.now
            cluster.cutZooKeeper(master: old)
            // Then it exits with the documented code once the session timeout has passed
            try await process.waitForExit(timeout: cluster.sessionTimeout + .seconds(15))
            let exitTime = ContinuousClock.now - cut
            Self.timing("master-zk-cut-to-exit", exitTime)
            #expect(
                process.exitCode == 101,
                "exit code \(String(describing: process.exitCode)):\n\(process.logTail(15))"
            )
            // And another master leads, agents re-register with it, and the tasks are the same
            try await cluster.eventually("another master leads", timeout: cluster.sessionTimeout + .seconds(30)) {
                guard let leader = await cluster.leadingMaster() else { return false }
                return leader != old
            }
            Self.timing("master-zk-cut-to-new-leader", ContinuousClock.now - cut)
            try await cluster.eventually("3 agents re-registered", timeout: .seconds(90)) {
                await cluster.activeAgents() == 3
            }
            Self.timing("master-zk-cut-to-agents-reregistered", ContinuousClock.now - cut)
            cluster.restoreZooKeeper(master: old)
            try cluster.restart(.master, old)
            try await cluster.eventually("the app is healthy again", timeout: .seconds(60)) {
                try await cluster.deploymentFinished(app: "/ha-zk", instances: 6)
            }
            let after = try await cluster.runningTaskIDsAtMaster()
            #expect(Set(after) == before && after.count == 6, "before \(before.sorted()) after \(after.sorted())")
            let leader = try #require(await cluster.leadingMaster())
            #expect(leader != old, "the restarted master rejoined as a follower")
        }
    }

    /// The leading scheduler's ZooKeeper session expiring ends its leadership (exit 101, or 103 when the new leader's
    /// fencing epoch stops it first), and the other scheduler takes over without touching the tasks.
    @Test(.enabled(if: HACluster.isAvailable, HACluster.skipReason))
    func theLeadingSchedulerLosingItsZooKeeperSessionStepsDown() async throws {
        try await Self.withCluster { cluster in
            try await cluster.createApp("/ha-zk-sched", instances: 6)
            try await cluster.eventually("6 running", timeout: .seconds(120)) {
                try await cluster.deploymentFinished(app: "/ha-zk-sched", instances: 6)
            }
            let before = Set(try await cluster.runningTaskIDsAtScheduler(app: "/ha-zk-sched"))
            let old = try #require(await cluster.leadingScheduler())
            let process = try #require(cluster.schedulers[old])
            let cut = ContinuousClock.now
            cluster.cutZooKeeper(scheduler: old)
            try await process.waitForExit(timeout: cluster.sessionTimeout + .seconds(15))
            Self.timing("scheduler-zk-cut-to-exit", ContinuousClock.now - cut)
            // 101 when it notices the lost session first; 103 when the new leader's epoch fences its next write first
            // (the server expires the session slightly before the cut-off client gives up on it).
            print("HA scheduler cut off from ZooKeeper exited with \(String(describing: process.exitCode))")
            #expect(
                process.exitCode == 101 || process.exitCode == 103,
                "exit code \(String(describing: process.exitCode)):\n\(process.logTail(15))"
            )
            try await cluster.eventually("the other scheduler leads", timeout: cluster.sessionTimeout + .seconds(30)) {
                guard let leader = await cluster.leadingScheduler() else { return false }
                return leader != old
            }
            Self.timing("scheduler-zk-cut-to-new-leader", ContinuousClock.now - cut)
            cluster.restoreZooKeeper(scheduler: old)
            try cluster.restart(.scheduler, old)
            try await cluster.eventually("the app is unchanged", timeout: .seconds(60)) {
                try await cluster.deploymentFinished(app: "/ha-zk-sched", instances: 6)
            }
            let after = try await cluster.runningTaskIDsAtScheduler(app: "/ha-zk-sched")
            #expect(Set(after) == before && after.count == 6, "before \(before.sorted()) after \(after.sorted())")
        }
    }

    /// One ZooKeeper node down (the ensemble's own leader, the hardest one) changes nothing: the same master and
    /// scheduler lead, no process exits, tasks keep their ids, and the cluster still deploys.
    @Test(.enabled(if: HACluster.isAvailable, HACluster.skipReason))
    func oneZooKeeperNodeDownChangesNothing() async throws {
        try await Self.withCluster { cluster in
            try await cluster.createApp("/ha-one-down", instances: 5)
            try await cluster.eventually("5 running", timeout: .seconds(120)) {
                try await cluster.deploymentFinished(app: "/ha-one-down", instances: 5)
            }
            let before = Set(try await cluster.runningTaskIDsAtMaster())
            let master = try #require(await cluster.leadingMaster())
            let scheduler = try #require(await cluster.leadingScheduler())
            // When the ZooKeeper node that leads the ensemble is killed
            let node = try #require(await cluster.ensemble.leaderIndex())
            await cluster.ensemble.stop(node)
            // Then for three session timeouts nothing changes
            let watch = ContinuousClock.now
            var samples = 0
            while ContinuousClock.now - watch < cluster.sessionTimeout * 3 {
                #expect(await cluster.leadingMaster() == master, "the master leadership moved")
                #expect(await cluster.leadingScheduler() == scheduler, "the scheduler leadership moved")
                let exited = (cluster.masters + cluster.schedulers + cluster.agents).compactMap { $0 }.filter {
                    !$0.isRunning
                }
                #expect(exited.isEmpty, "processes exited: \(exited.map(\.logURL.lastPathComponent))")
                samples += 1
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(samples > 5)
            #expect(await cluster.activeAgents() == 3)
            #expect(Set(try await cluster.runningTaskIDsAtMaster()) == before)
            // And the cluster still deploys
            let leader = try #require(await cluster.leadingScheduler())
            let scaled = try await HTTP.request(
                .PUT,
                "\(cluster.schedulerURL(leader))/v2/apps/ha-one-down",
                json: ["instances": 8]
            )
            #expect(scaled.status == 200, "\(scaled.text)")
            try await cluster.eventually("8 running", timeout: .seconds(120)) {
                try await cluster.deploymentFinished(app: "/ha-one-down", instances: 8)
            }
            #expect(before.isSubset(of: Set(try await cluster.runningTaskIDsAtMaster())))
            try await cluster.ensemble.start(node)
        }
    }

    /// `DELETE /v2/leader` three times in a row leaves one agreed leader and unchanged task ids (Marathon's
    /// LeaderIntegrationTest). An abdicated scheduler that exits is restarted, as its supervisor would.
    @Test(.enabled(if: HACluster.isAvailable, HACluster.skipReason))
    func abdicatingThreeTimesLeavesOneAgreedLeaderAndTheSameTasks() async throws {
        try await Self.withCluster { cluster in
            try await cluster.createApp("/ha-abdicate", instances: 5)
            try await cluster.eventually("5 running", timeout: .seconds(120)) {
                try await cluster.deploymentFinished(app: "/ha-abdicate", instances: 5)
            }
            let before = Set(try await cluster.runningTaskIDsAtScheduler(app: "/ha-abdicate"))
            for round in 1...3 {
                let old = try #require(await cluster.leadingScheduler(), "round \(round): a leader before abdicating")
                let asked = ContinuousClock.now
                let response = try await HTTP.request(.DELETE, "\(cluster.schedulerURL(old))/v2/leader")
                #expect(response.status == 200, "round \(round): DELETE /v2/leader \(response.status) \(response.text)")
                try await cluster.eventually("round \(round): leadership left scheduler \(old)", timeout: .seconds(60))
                {
                    if cluster.schedulers[old]?.isRunning != true { return true }
                    guard let leader = await cluster.leadingScheduler() else { return false }
                    return leader != old
                }
                if let process = cluster.schedulers[old], !process.isRunning {
                    let code = String(describing: process.exitCode)
                    print("HA abdication round \(round): scheduler \(old) exited with \(code)")
                    try cluster.restart(.scheduler, old)
                }
                try await cluster.eventually(
                    "round \(round): both schedulers agree on one leader",
                    timeout: .seconds(60)
                ) {
                    guard await cluster.leadingScheduler() != nil else { return false }
                    guard cluster.schedulers.allSatisfy({ $0?.isRunning == true }) else { return false }
                    return (try? await HTTP.get("\(cluster.schedulerURL(old))/v2/leader").status) == 200
                }
                Self.timing("scheduler-abdication-round-\(round)-to-agreed-leader", ContinuousClock.now - asked)
                let leader = try #require(await cluster.leadingScheduler())
                #expect(leader != old, "round \(round): another scheduler leads after the abdication")
            }
            try await cluster.eventually("the app is unchanged", timeout: .seconds(60)) {
                try await cluster.deploymentFinished(app: "/ha-abdicate", instances: 5)
            }
            let after = try await cluster.runningTaskIDsAtScheduler(app: "/ha-abdicate")
            #expect(Set(after) == before && after.count == 5, "before \(before.sorted()) after \(after.sorted())")
            let master = try await cluster.runningTaskIDsAtMaster()
            #expect(Set(master) == before, "the master runs exactly the same tasks")
        }
    }

    /// An unmodified pymesos framework given `zk://…/mesos` follows a master failover: it re-subscribes with the same
    /// framework id at the new leader, which reports its task still TASK_RUNNING, and it can kill it there.
    @Test(.enabled(if: HACluster.isAvailable, HACluster.skipReason))
    func pymesosWithAZooKeeperMasterFollowsAMasterFailover() async throws {
        let setup = try run("/bin/bash", [Package.root.appendingPathComponent("scripts/python-clients.sh").path])
        try #require(setup.status == 0, "installing pymesos failed: \(setup.output)")
        let python = setup.output.trimmingCharacters(in: .whitespacesAndNewlines)
        try await Self.withCluster { cluster in
            let script = Package.root.appendingPathComponent(
                "Tests/IntegrationTests/Python/pymesos_failover_framework.py"
            )
            let framework = try ChildProcess(
                python,
                [script.path, cluster.mesosURL, "pymesos-ha-task", "180"],
                log: cluster.directory.appendingPathComponent("pymesos.log")
            )
            defer { Glibc.kill(framework.pid, SIGKILL) }
            try await cluster.eventually("pymesos runs its task", timeout: .seconds(90)) {
                framework.log().contains("running pymesos-ha-task")
            }
            let oldLeader = try #require(await cluster.leadingMaster())
            let (leaderTime, agentsTime) = try await Self.failOverMaster(cluster)
            let newLeader = try #require(await cluster.leadingMaster())
            Self.timing("master-kill-to-new-leader(pymesos)", leaderTime)
            Self.timing("master-kill-to-agents-reregistered(pymesos)", agentsTime)
            try await cluster.eventually("pymesos re-registered", timeout: .seconds(60)) {
                framework.log().contains("reregistered")
            }
            try await framework.waitForExit(timeout: .seconds(120))
            let log = framework.log()
            #expect(framework.exitCode == 0, "pymesos output:\n\(log)")
            #expect(log.contains("reconciled pymesos-ha-task TASK_RUNNING"), "pymesos output:\n\(log)")
            #expect(log.contains("killed pymesos-ha-task"), "pymesos output:\n\(log)")
            #expect(
                log.contains("registered") && log.contains("127.0.0.1 \(cluster.masterPorts[oldLeader])"),
                "pymesos first registered with the old leader:\n\(log)"
            )
            #expect(
                log.contains("reregistered 127.0.0.1 \(cluster.masterPorts[newLeader])"),
                "pymesos re-registered with the new leader:\n\(log)"
            )
        }
    }
}
