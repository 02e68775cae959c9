// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// A `regatta dev` cluster (master, agent, scheduler in one process) on free loopback ports.
struct DevCluster {
    let process: RegattaProcess
    let workDir: URL
    let masterPort: Int
    let agentPort: Int
    let httpPort: Int
    var scheduler: String { "http://127.0.0.1:\(self.httpPort)" }
    var master: String { "http://127.0.0.1:\(self.masterPort)" }

    static func start(workDir: URL? = nil, ports: (Int, Int, Int)? = nil) async throws -> DevCluster {
        let dir =
            workDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("regatta-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (masterPort, agentPort, httpPort) = ports ?? (freePort(), freePort(), freePort())
        let process = try RegattaProcess(
            [
                "dev", "--work_dir", dir.path, "--master_port", "\(masterPort)", "--agent_port", "\(agentPort)",
                "--http_port", "\(httpPort)", "--resources", "cpus:4;mem:4096;disk:4096;ports:[31000-31999]",
            ],
            log: dir.appendingPathComponent("dev-\(UUID().uuidString.prefix(8)).log")
        )
        let cluster = DevCluster(
            process: process,
            workDir: dir,
            masterPort: masterPort,
            agentPort: agentPort,
            httpPort: httpPort
        )
        try await eventually("the dev cluster answers /ping and has an agent") {
            let ping = try await HTTP.get("\(cluster.scheduler)/ping")
            let agents = try await HTTP.get("\(cluster.master)/master/slaves")
            let list = (agents.json as? [String: Any])?["slaves"] as? [Any] ?? []
            return ping.text == "pong" && list.count == 1
        }
        return cluster
    }

    func tasks(_ app: String) async throws -> [[String: Any]] {
        let response = try await HTTP.get("\(self.scheduler)/v2/apps\(app)/tasks")
        return (response.json as? [String: Any])?["tasks"] as? [[String: Any]] ?? []
    }

    func running(_ app: String) async throws -> [[String: Any]] {
        try await self.tasks(app).filter { $0["state"] as? String == "TASK_RUNNING" }
    }

    /// Runs the `regatta` CLI against this cluster.
    func cli(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try run(Package.regatta, arguments + ["--scheduler", self.scheduler])
    }
}

/// Process ids of `python3 -m http.server PORT` for the given ports.
func httpServerPIDs(ports: [Int]) throws -> [Int32] {
    var pids: [Int32] = []
    for port in ports {
        let (_, output) = try run("/usr/bin/pgrep", ["-f", "http.server \(port)$"])
        pids += output.split(separator: "\n").compactMap { Int32($0) }
    }
    return pids
}

@Suite(.serialized) struct DevClusterTests {
    /// The issue's walking skeleton: post an app, reach its processes, scale, replace a killed one, remove.
    @Test func appLifecycleWithRealProcesses() async throws {
        let cluster = try await DevCluster.start()
        defer { try? FileManager.default.removeItem(at: cluster.workDir) }
        do {
            // Given an app posted as in the README
            let created = try await HTTP.request(
                .POST,
                "\(cluster.scheduler)/v2/apps",
                json: [
                    "id": "/hello", "cmd": "exec python3 -m http.server $PORT0", "cpus": 0.1, "mem": 32, "instances": 2,
                ]
            )
            #expect(created.status == 201)
            #expect(created.headers.first(name: "Marathon-Deployment-Id") != nil)
            // Then two processes answer on the ports the API lists
            try await eventually("2 running tasks") { try await cluster.running("/hello").count == 2 }
            var ports = try await cluster.running("/hello").compactMap { ($0["ports"] as? [Int])?.first }
            #expect(Set(ports).count == 2)
            for port in ports {
                try await eventually("http.server on \(port) answers") {
                    try await HTTP.get("http://127.0.0.1:\(port)/").status == 200
                }
            }
            // When scaled to 3 with the CLI
            try await eventually("the start deployment finishes") {
                let deployments = try await HTTP.get("\(cluster.scheduler)/v2/deployments")
                return (deployments.json as? [Any])?.isEmpty == true
            }
            let scaled = try cluster.cli(["app", "scale", "/hello", "3"])
            #expect(scaled.status == 0, "\(scaled.output)")
            try await eventually("3 running tasks") { try await cluster.running("/hello").count == 3 }
            // When one process is killed with SIGKILL, it is replaced within seconds
            ports = try await cluster.running("/hello").compactMap { ($0["ports"] as? [Int])?.first }
            let victim = ports[0]
            let victimTask =
                try await cluster.running("/hello").first { ($0["ports"] as? [Int])?.first == victim }?["id"] as? String
            try await eventually("the victim's process is visible") { try !httpServerPIDs(ports: [victim]).isEmpty }
            for pid in try httpServerPIDs(ports: [victim]) { kill(pid, SIGKILL) }
            try await eventually(timeout: .seconds(20), "a replacement runs") {
                let running = try await cluster.running("/hello")
                return running.count == 3 && !running.contains { $0["id"] as? String == victimTask }
            }
            // When removed, no process is left behind
            ports = try await cluster.running("/hello").compactMap { ($0["ports"] as? [Int])?.first }
            let removed = try cluster.cli(["app", "remove", "/hello"])
            #expect(removed.status == 0, "\(removed.output)")
            try await eventually("no http.server process left") { try httpServerPIDs(ports: ports).isEmpty }
            let gone = try await HTTP.get("\(cluster.scheduler)/v2/apps/hello")
            #expect(gone.status == 404)
        } catch {
            Issue.record("dev cluster log:\n\(cluster.process.logTail())")
            await cluster.process.stop()
            throw error
        }
        await cluster.process.stop()
    }

    /// Bad input gets Marathon's error bodies and changes nothing.
    @Test func badInputIsRefusedWithMarathonErrors() async throws {
        let cluster = try await DevCluster.start()
        defer { try? FileManager.default.removeItem(at: cluster.workDir) }
        try await Self.badInput(cluster)
        await cluster.process.stop()
    }

    static func badInput(_ cluster: DevCluster) async throws {
        let malformed = try await HTTP.request(.POST, "\(cluster.scheduler)/v2/apps", body: "{not json")
        #expect(malformed.status == 400)
        #expect((malformed.json as? [String: Any])?["message"] as? String == "Invalid JSON")
        let wrongType = try await HTTP.request(
            .POST,
            "\(cluster.scheduler)/v2/apps",
            body: #"{"id":"/a","cmd":"x","cpus":"lots"}"#
        )
        #expect(wrongType.status == 400)
        let details = (wrongType.json as? [String: Any])?["details"] as? [[String: Any]]
        #expect(details?.first?["path"] as? String == "/cpus")
        let invalid = try await HTTP.request(
            .POST,
            "\(cluster.scheduler)/v2/apps",
            json: ["id": "/Bad_Id", "cmd": "x", "cpus": 0, "instances": -1]
        )
        #expect(invalid.status == 422)
        let body = invalid.json as? [String: Any]
        #expect(body?["message"] as? String == "Object is not valid")
        let paths = Set(((body?["details"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String })
        #expect(paths.isSuperset(of: ["/id", "/cpus", "/instances"]))
        #expect(try await HTTP.get("\(cluster.scheduler)/v2/apps/nope").status == 404)
        let apps = try await HTTP.get("\(cluster.scheduler)/v2/apps")
        #expect(((apps.json as? [String: Any])?["apps"] as? [Any])?.isEmpty == true, "nothing was stored")
        // A duplicate id conflicts.
        _ = try await HTTP.request(
            .POST,
            "\(cluster.scheduler)/v2/apps",
            json: ["id": "/dup", "cmd": "sleep 100", "cpus": 0.1, "mem": 16]
        )
        let duplicate = try await HTTP.request(
            .POST,
            "\(cluster.scheduler)/v2/apps",
            json: ["id": "/dup", "cmd": "sleep 100"]
        )
        #expect(duplicate.status == 409)
        // The CLI prints one line and exits non-zero.
        let missing = try cluster.cli(["app", "show", "/nope"])
        #expect(missing.status != 0)
        #expect(missing.output.contains("App '/nope' does not exist"))
        let badFile = try cluster.cli(["app", "add", "/does/not/exist.json"])
        #expect(badFile.status != 0)
        #expect(badFile.output.split(separator: "\n").count == 1)
    }

    /// Restarting the cluster keeps app definitions (SQLite store) and relaunches their instances.
    @Test func appsSurviveARestart() async throws {
        let first = try await DevCluster.start()
        defer { try? FileManager.default.removeItem(at: first.workDir) }
        _ = try await HTTP.request(
            .POST,
            "\(first.scheduler)/v2/apps",
            json: ["id": "/keep", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1]
        )
        try await eventually("1 running") { try await first.running("/keep").count == 1 }
        await first.process.stop()
        let second = try await DevCluster.start(
            workDir: first.workDir,
            ports: (freePort(), freePort(), freePort())
        )
        do {
            let app = try await HTTP.get("\(second.scheduler)/v2/apps/keep")
            #expect(app.status == 200)
            try await eventually("relaunched after restart") { try await second.running("/keep").count == 1 }
        } catch {
            await second.process.stop()
            throw error
        }
        await second.process.stop()
    }
}
