// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A highly available Regatta cluster of real processes on loopback ports: a ZooKeeper ensemble, masters elected
/// under `/mesos`, schedulers elected under `/regatta` sharing one fresh PostgreSQL database, and agents that find
/// the leading master through `zk://`.
///
/// Every master and scheduler reaches ZooKeeper through its own ``TCPProxy`` per ZooKeeper node, so a test can take
/// one process's ZooKeeper away (``cutZooKeeper(master:mode:)``) while the ensemble stays up.
final class HACluster: @unchecked Sendable {
    /// Which kind of process.
    enum Role: String, Sendable {
        case master, scheduler, agent
    }

    let ensemble: ZooKeeperEnsemble
    let directory: URL
    let sessionTimeout: Duration
    let database: String
    let storeURL: String
    let agentResources: String
    let masterFlags: [String]

    private(set) var masters: [ChildProcess?]
    let masterPorts: [Int]
    let masterProxies: [[TCPProxy]]
    private(set) var schedulers: [ChildProcess?]
    let schedulerPorts: [Int]
    let schedulerProxies: [[TCPProxy]]
    private(set) var agents: [ChildProcess?]
    let agentPorts: [Int]
    /// Each agent's `ports:[…]` resource (see ``uniqueAgentPorts()``), kept across its restarts.
    let agentPortRanges: [String]
    private var launches = 0

    /// Whether the services the cluster needs are there: java + zookeeper jars, and REGATTA_TEST_PG_URL with psql.
    static var isAvailable: Bool {
        ZooKeeperEnsemble.isAvailable && ServiceEnvironment.postgresURL != nil && Self.psql != nil
    }

    static let skipReason: Comment =
        "needs java + Debian's zookeeper (scripts/services.sh install), REGATTA_TEST_PG_URL and psql (scripts/test.sh)"

    static var psql: String? {
        ["/usr/bin/psql", "/usr/local/bin/psql", "/usr/lib/postgresql/15/bin/psql"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// An HTTP client that does not follow redirects (to read `/master/redirect` and 307s from non-leaders).
    static let noRedirectClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: .init(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(2), read: .seconds(10))
        )
    )

    /// Starts the ensemble, then `masters` masters (the first is started alone and leads), `agents` agents and
    /// `schedulers` schedulers (the first leads), and waits until the leading master sees every agent and the
    /// schedulers agree on a leader.
    init(
        masters masterCount: Int = 3,
        schedulers schedulerCount: Int = 2,
        agents agentCount: Int = 3,
        sessionTimeoutSeconds: Int = 5,
        agentResources: String = "cpus:8;mem:4096;disk:4096",
        masterFlags: [String] = []
    ) async throws {
        self.ensemble = try await ZooKeeperEnsemble(nodes: 3)
        self.directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(
            "regatta-ha-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        self.sessionTimeout = .seconds(sessionTimeoutSeconds)
        self.agentResources = agentResources
        self.masterFlags = masterFlags
        let zkPorts = self.ensemble.nodes.map(\.clientPort)
        self.masterPorts = (0..<masterCount).map { _ in freePort() }
        self.masterProxies = try (0..<masterCount).map { _ in try TCPProxy.group(upstreamPorts: zkPorts) }
        self.schedulerPorts = (0..<schedulerCount).map { _ in freePort() }
        self.schedulerProxies = try (0..<schedulerCount).map { _ in try TCPProxy.group(upstreamPorts: zkPorts) }
        self.agentPorts = (0..<agentCount).map { _ in freePort() }
        self.agentPortRanges = (0..<agentCount).map { _ in uniqueAgentPorts() }
        self.masters = Array(repeating: nil, count: masterCount)
        self.schedulers = Array(repeating: nil, count: schedulerCount)
        self.agents = Array(repeating: nil, count: agentCount)
        self.database = "regatta_ha_" + UUID().uuidString.prefix(8).lowercased()
        guard let base = ServiceEnvironment.postgresURL, var components = URLComponents(string: base) else {
            throw ChildProcessError(message: "REGATTA_TEST_PG_URL is not set (scripts/test.sh starts PostgreSQL)")
        }
        components.path = "/" + self.database
        self.storeURL = components.string!
        do {
            try Self.sql("CREATE DATABASE \(self.database)")
            try self.startMaster(0)
            try await self.eventually("master 0 leads", timeout: .seconds(60)) { await self.leadingMaster() == 0 }
            for index in 1..<masterCount { try self.startMaster(index) }
            for index in 0..<agentCount { try self.startAgent(index) }
            try await self.eventually("\(agentCount) agents registered with the leading master", timeout: .seconds(60))
            {
                await self.activeAgents() == agentCount
            }
            try self.startScheduler(0)
            try await self.eventually("scheduler 0 leads", timeout: .seconds(60)) { await self.leadingScheduler() == 0 }
            for index in 1..<schedulerCount { try self.startScheduler(index) }
            try await self.eventually("all schedulers agree on scheduler 0", timeout: .seconds(60)) {
                guard await self.leadingScheduler() == 0 else { return false }
                return (try? await HTTP.get("\(self.schedulerURL(schedulerCount - 1))/v2/leader").status) == 200
            }
        } catch {
            Issue.record("the HA cluster did not start:\n\(self.logs())")
            await self.stop()
            throw error
        }
    }

    // MARK: URLs

    func masterURL(_ index: Int) -> String { "http://127.0.0.1:\(self.masterPorts[index])" }
    func schedulerURL(_ index: Int) -> String { "http://127.0.0.1:\(self.schedulerPorts[index])" }
    func agentURL(_ index: Int) -> String { "http://127.0.0.1:\(self.agentPorts[index])" }

    /// The masters' election URL straight to the ensemble (what agents and frameworks use).
    var mesosURL: String { self.ensemble.url(path: "/mesos") }

    private func proxiedURL(_ proxies: [TCPProxy], path: String) -> String {
        "zk://" + proxies.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") + path
    }

    // MARK: processes

    private func launch(_ role: Role, _ index: Int, _ arguments: [String]) throws -> ChildProcess {
        self.launches += 1
        let log = self.directory.appendingPathComponent("\(role.rawValue)-\(index)-\(self.launches).log")
        return try ChildProcess(Package.regatta, [role.rawValue] + arguments, log: log)
    }

    /// Starts (or restarts, as a supervisor would) master `index` on its port, work dir and proxied ZooKeeper URL.
    func startMaster(_ index: Int) throws {
        self.masters[index] = try self.launch(
            .master,
            index,
            [
                "--ip", "127.0.0.1", "--port", "\(self.masterPorts[index])", "--hostname", "127.0.0.1",
                "--work_dir", self.directory.appendingPathComponent("master-\(index)").path,
                "--zk", self.proxiedURL(self.masterProxies[index], path: "/mesos"),
                "--zk_session_timeout", "\(self.sessionTimeout.components.seconds)secs",
            ] + self.masterFlags
        )
    }

    /// Starts (or restarts) scheduler `index`.
    func startScheduler(_ index: Int) throws {
        let proxies = self.schedulerProxies[index]
        self.schedulers[index] = try self.launch(
            .scheduler,
            index,
            [
                "--master", self.proxiedURL(proxies, path: "/mesos"), "--zk",
                self.proxiedURL(proxies, path: "/regatta"),
                "--zk_session_timeout", "\(self.sessionTimeout.components.seconds)secs",
                "--hostname", "127.0.0.1", "--http_port", "\(self.schedulerPorts[index])", "--store", self.storeURL,
            ]
        )
    }

    /// Starts (or restarts) agent `index`, which finds the leading master through `zk://…/mesos`.
    func startAgent(_ index: Int) throws {
        self.agents[index] = try self.launch(
            .agent,
            index,
            [
                "--master", self.mesosURL, "--zk_session_timeout", "\(self.sessionTimeout.components.seconds)secs",
                "--ip", "127.0.0.1", "--port", "\(self.agentPorts[index])", "--hostname", "agent-\(index)",
                "--work_dir", self.directory.appendingPathComponent("agent-\(index)").path,
                "--resources",
                self.agentResources.contains("ports:")
                    ? self.agentResources : self.agentResources + ";" + self.agentPortRanges[index],
            ]
        )
    }

    func process(_ role: Role, _ index: Int) -> ChildProcess? {
        switch role {
        case .master: self.masters[index]
        case .scheduler: self.schedulers[index]
        case .agent: self.agents[index]
        }
    }

    /// SIGKILLs a process and waits until it is gone.
    func kill(_ role: Role, _ index: Int) async {
        await self.process(role, index)?.kill(SIGKILL)
    }

    /// Starts a process of `role` again (after a kill or an exit).
    func restart(_ role: Role, _ index: Int) throws {
        switch role {
        case .master: try self.startMaster(index)
        case .scheduler: try self.startScheduler(index)
        case .agent: try self.startAgent(index)
        }
    }

    /// Takes master `index`'s ZooKeeper connection away (every proxy to every node).
    func cutZooKeeper(master index: Int, mode: TCPProxy.CutMode = .reset) {
        for proxy in self.masterProxies[index] { proxy.cut(mode) }
    }

    func restoreZooKeeper(master index: Int) {
        for proxy in self.masterProxies[index] { proxy.restore() }
    }

    func cutZooKeeper(scheduler index: Int, mode: TCPProxy.CutMode = .reset) {
        for proxy in self.schedulerProxies[index] { proxy.cut(mode) }
    }

    func restoreZooKeeper(scheduler index: Int) {
        for proxy in self.schedulerProxies[index] { proxy.restore() }
    }

    // MARK: leaders

    /// Whether master `index` says it leads: `/master/redirect` points at itself, and `master/elected` (when
    /// reported) is 1.
    func masterClaimsLeadership(_ index: Int) async -> Bool {
        guard self.masters[index]?.isRunning == true else { return false }
        guard let location = await self.redirectLocation(index), location.hasSuffix(":\(self.masterPorts[index])")
        else {
            return false
        }
        if let elected = try? await self.metric("master/elected", master: index), elected != 1 { return false }
        return true
    }

    /// The `Location` of master `index`'s `/master/redirect` (`//host:port`), or nil.
    func redirectLocation(_ index: Int) async -> String? {
        var request = HTTPClientRequest(url: "\(self.masterURL(index))/master/redirect")
        request.method = .GET
        guard let response = try? await Self.noRedirectClient.execute(request, timeout: .seconds(5)) else { return nil }
        _ = try? await response.body.collect(upTo: 1 << 20)
        guard response.status == .temporaryRedirect, let location = response.headers.first(name: "Location") else {
            return nil
        }
        return location.split(separator: "/").first { $0.contains(":") }.map(String.init)
    }

    /// The index of the one master that leads and that every other running master points at, or nil.
    func leadingMaster() async -> Int? {
        var claimants: [Int] = []
        for index in self.masters.indices where await self.masterClaimsLeadership(index) { claimants.append(index) }
        guard claimants.count == 1, let leader = claimants.first else { return nil }
        return leader
    }

    /// A metric from master `index`'s `/metrics/snapshot`.
    func metric(_ key: String, master index: Int) async throws -> Double? {
        let response = try await HTTP.get("\(self.masterURL(index))/metrics/snapshot")
        return (response.json as? [String: Any])?[key] as? Double
    }

    /// Active agents as the leading master counts them (`master/slaves_active`), or -1 when none leads.
    func activeAgents() async -> Int {
        guard let leader = await self.leadingMaster() else { return -1 }
        return Int((try? await self.metric("master/slaves_active", master: leader)) ?? -1)
    }

    /// The one scheduler every running scheduler names in `/v2/leader`, or nil when they disagree or none leads.
    func leadingScheduler() async -> Int? {
        var named: Set<String> = []
        var answered = 0
        for index in self.schedulers.indices where self.schedulers[index]?.isRunning == true {
            guard let response = try? await HTTP.get("\(self.schedulerURL(index))/v2/leader"), response.status == 200,
                let leader = (response.json as? [String: Any])?["leader"] as? String
            else { return nil }
            named.insert(leader)
            answered += 1
        }
        guard answered > 0, named.count == 1, let leader = named.first,
            let index = self.schedulerPorts.firstIndex(where: { leader.hasSuffix(":\($0)") }),
            self.schedulers[index]?.isRunning == true
        else { return nil }
        return index
    }

    // MARK: tasks

    /// Ids of TASK_RUNNING tasks in the leading master's `/master/state` (frameworks' tasks and orphans), with
    /// duplicates kept so a test can detect them.
    func runningTaskIDsAtMaster() async throws -> [String] {
        guard let leader = await self.leadingMaster() else {
            throw ChildProcessError(message: "no master leads")
        }
        let state = try await HTTP.get("\(self.masterURL(leader))/master/state")
        guard let root = state.json as? [String: Any] else {
            throw ChildProcessError(message: "/master/state is not JSON: \(state.status) \(state.text.prefix(200))")
        }
        var tasks: [[String: Any]] = root["orphan_tasks"] as? [[String: Any]] ?? []
        for framework in root["frameworks"] as? [[String: Any]] ?? [] {
            tasks += framework["tasks"] as? [[String: Any]] ?? []
        }
        return tasks.filter { $0["state"] as? String == "TASK_RUNNING" }.compactMap { $0["id"] as? String }
    }

    /// The running tasks the leading master knows, counted per agent id.
    func runningTasksPerAgentAtMaster() async throws -> [String: Int] {
        guard let leader = await self.leadingMaster() else {
            throw ChildProcessError(message: "no master leads")
        }
        let state = try await HTTP.get("\(self.masterURL(leader))/master/state")
        guard let root = state.json as? [String: Any] else {
            throw ChildProcessError(message: "/master/state is not JSON: \(state.status) \(state.text.prefix(200))")
        }
        var perAgent: [String: Int] = [:]
        for framework in root["frameworks"] as? [[String: Any]] ?? [] {
            for task in framework["tasks"] as? [[String: Any]] ?? [] where task["state"] as? String == "TASK_RUNNING" {
                perAgent[task["slave_id"] as? String ?? "?", default: 0] += 1
            }
        }
        return perAgent
    }

    /// The scheduler's tasks of `app` (`/v2/apps<app>/tasks`) through scheduler `index` (a follower proxies).
    func schedulerTasks(app: String, via index: Int? = nil) async throws -> [[String: Any]] {
        let via = index ?? self.schedulers.indices.first { self.schedulers[$0]?.isRunning == true } ?? 0
        let response = try await HTTP.get("\(self.schedulerURL(via))/v2/apps\(app)/tasks")
        guard response.status == 200 else {
            throw ChildProcessError(
                message: "GET /v2/apps\(app)/tasks: \(response.status) \(response.text.prefix(300))"
            )
        }
        return (response.json as? [String: Any])?["tasks"] as? [[String: Any]] ?? []
    }

    /// Ids of the app's TASK_RUNNING tasks according to the scheduler.
    func runningTaskIDsAtScheduler(app: String) async throws -> [String] {
        try await self.schedulerTasks(app: app).filter { $0["state"] as? String == "TASK_RUNNING" }
            .compactMap { $0["id"] as? String }
    }

    /// Whether the app has `instances` running and no deployment in flight.
    func deploymentFinished(app: String, instances: Int) async throws -> Bool {
        guard let leader = await self.leadingScheduler() else { return false }
        let response = try await HTTP.get("\(self.schedulerURL(leader))/v2/apps\(app)")
        guard let body = (response.json as? [String: Any])?["app"] as? [String: Any] else { return false }
        let deployments = body["deployments"] as? [Any] ?? []
        return deployments.isEmpty && body["tasksRunning"] as? Int == instances
    }

    /// Creates an app of `instances` tiny `sleep` tasks through the leading scheduler.
    func createApp(_ id: String, instances: Int, cpus: Double = 0.01, mem: Double = 8) async throws {
        guard let leader = await self.leadingScheduler() else { throw ChildProcessError(message: "no scheduler leads") }
        let response = try await HTTP.request(
            .POST,
            "\(self.schedulerURL(leader))/v2/apps",
            json: ["id": id, "cmd": "sleep 100000", "cpus": cpus, "mem": mem, "instances": instances]
        )
        guard response.status == 201 else {
            throw ChildProcessError(message: "POST /v2/apps \(id): \(response.status) \(response.text.prefix(300))")
        }
    }

    // MARK: waiting

    /// Polls `condition` every 100 ms; throws (with the cluster's logs) after `timeout`. Returns the time it took.
    @discardableResult
    func eventually(
        _ what: String,
        timeout: Duration = .seconds(60),
        _ condition: () async throws -> Bool
    ) async throws -> Duration {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if (try? await condition()) == true { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChildProcessError(message: "timed out after \(timeout) waiting for: \(what)")
    }

    // MARK: teardown

    /// The last lines of every process's log.
    func logs(_ lines: Int = 25) -> String {
        var parts: [String] = []
        for (role, list) in [(Role.master, self.masters), (.scheduler, self.schedulers), (.agent, self.agents)] {
            for (index, process) in list.enumerated() {
                guard let process else { continue }
                let state = process.isRunning ? "running" : "exited \(process.exitCode.map(String.init) ?? "by signal")"
                parts.append(
                    "--- \(role.rawValue)-\(index) (\(state)) \(process.logURL.path)\n\(process.logTail(lines))"
                )
            }
        }
        return parts.joined(separator: "\n")
    }

    /// Stops every process (agents, schedulers, masters), ends the tasks' process groups, the ensemble and proxies,
    /// drops the database, and removes the directory (kept with REGATTA_TEST_KEEP_LOGS=1).
    func stop() async {
        for process in self.agents.compactMap({ $0 }) { await process.stop() }
        for process in self.schedulers.compactMap({ $0 }) { await process.stop() }
        for process in self.masters.compactMap({ $0 }) { await process.stop() }
        // Agents leave their tasks running when they stop (as in Mesos): end the supervisors' process groups.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else {
                continue
            }
            let command = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if command.contains(self.directory.path) && command.contains("supervisor.sh") {
                Glibc.kill(-pid, SIGKILL)
                Glibc.kill(pid, SIGKILL)
            }
        }
        for proxy in (self.masterProxies + self.schedulerProxies).joined() { proxy.close() }
        await self.ensemble.stopAll()
        try? Self.sql("DROP DATABASE IF EXISTS \(self.database) WITH (FORCE)")
        if ProcessInfo.processInfo.environment["REGATTA_TEST_KEEP_LOGS"] != "1" {
            try? FileManager.default.removeItem(at: self.directory)
        }
    }

    /// Runs one SQL statement on REGATTA_TEST_PG_URL's database with psql.
    static func sql(_ statement: String) throws {
        guard let psql = Self.psql, let url = ServiceEnvironment.postgresURL else {
            throw ChildProcessError(message: "psql or REGATTA_TEST_PG_URL missing")
        }
        let result = try run(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", statement])
        guard result.status == 0 else {
            throw ChildProcessError(message: "psql '\(statement)' failed: \(result.output)")
        }
    }
}
