// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// A Docker app deployed through the service scheduler onto real agents with the Docker containerizer.
@Suite(.serialized) struct DockerAppTests {
    /// Removes the Docker containers whose sandbox lies under `workDir` (agents leave tasks running when they stop).
    static func removeContainers(under workDir: URL) {
        let list = Process()
        list.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        list.arguments = [
            "docker", "ps", "-a", "--filter", "label=regatta.sandbox", "--format",
            "{{.ID}} {{.Label \"regatta.sandbox\"}}",
        ]
        let pipe = Pipe()
        list.standardOutput = pipe
        list.standardError = FileHandle.nullDevice
        guard (try? list.run()) != nil else { return }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        list.waitUntilExit()
        let ids = output.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ", maxSplits: 1)
            guard fields.count == 2, fields[1].hasPrefix(workDir.path) else { return nil }
            return String(fields[0])
        }
        guard !ids.isEmpty else { return }
        let remove = Process()
        remove.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        remove.arguments = ["docker", "rm", "-f"] + ids
        remove.standardOutput = FileHandle.nullDevice
        remove.standardError = FileHandle.nullDevice
        try? remove.run()
        remove.waitUntilExit()
    }

    @Test(.enabled(if: ServiceEnvironment.dockerEnabled, ServiceEnvironment.dockerSkipReason))
    func bridgeAppAnswersOnItsHostPort() async throws {
        // Given three agents with the Docker containerizer and a scheduler. The agents share this machine's ports,
        // so each offers its own range (on separate hosts they would all offer the same one).
        let cluster = try await MasterCluster(agents: 0, agentFlags: ["--containerizers", "docker,mesos"])
        for index in 0..<3 { try cluster.startAgent(index) }
        try await eventually("3 agents registered") { try await cluster.activeAgents() == 3 }
        let (process, scheduler) = try cluster.startScheduler()
        do {
            try await eventually("the scheduler answers /ping") {
                try await HTTP.get("\(scheduler)/ping").text == "pong"
            }
            // When a BRIDGE app maps container port 80 to a dynamic host port, with an HTTP health check on it
            let created = try await HTTP.request(
                .POST,
                "\(scheduler)/v2/apps",
                json: [
                    "id": "/web", "instances": 2, "cpus": 0.1, "mem": 32,
                    "cmd":
                        "mkdir -p /www && echo \"hello from $HOST:$PORT0\" > /www/index.html && exec httpd -f -p 80 -h /www",
                    "constraints": [["hostname", "UNIQUE"]],
                    "container": [
                        "type": "DOCKER",
                        "docker": [
                            "image": ServiceEnvironment.dockerImage, "network": "BRIDGE",
                            "portMappings": [["containerPort": 80, "hostPort": 0, "protocol": "tcp", "name": "http"]],
                        ],
                    ],
                    "healthChecks": [
                        [
                            "protocol": "HTTP", "path": "/", "portIndex": 0, "gracePeriodSeconds": 30,
                            "intervalSeconds": 1, "timeoutSeconds": 2, "maxConsecutiveFailures": 3,
                        ]
                    ],
                ]
            )
            #expect(created.status == 201, "\(created.text)")

            // Then both instances run on distinct agents, healthy, each answering on 127.0.0.1:<its host port>
            var tasks: [[String: Any]] = []
            try await eventually(timeout: .seconds(90), "2 healthy Docker tasks") {
                tasks = try await SchedulerIntegrationTests.running(scheduler, "/web")
                return tasks.count == 2
                    && tasks.allSatisfy { task in
                        let results = task["healthCheckResults"] as? [[String: Any]] ?? []
                        return results.first?["alive"] as? Bool == true
                    }
            }
            #expect(Set(tasks.compactMap { $0["host"] as? String }).count == 2)
            for task in tasks {
                let ports = task["ports"] as? [Int] ?? []
                #expect(ports.count == 1, "\(task)")
                let port = try #require(ports.first)
                #expect(
                    cluster.agentPortRanges.contains { portRange(of: $0)?.contains(port) == true },
                    "the host port comes from the offer's ranges: \(port) in \(cluster.agentPortRanges)"
                )
                let answer = try await HTTP.get("http://127.0.0.1:\(port)/")
                #expect(answer.status == 200)
                // The container saw PORT0 = its host port (Marathon sets the host port for BRIDGE mappings).
                #expect(answer.text.contains(":\(port)"), "\(answer.text)")
            }

            // And removing the app stops the containers: the ports no longer answer
            let ports = tasks.compactMap { ($0["ports"] as? [Int])?.first }
            let removed = try await HTTP.request(.DELETE, "\(scheduler)/v2/apps/web")
            #expect(removed.status == 200, "\(removed.text)")
            try await eventually(timeout: .seconds(60), "the containers stopped") {
                for port in ports {
                    if (try? await HTTP.get("http://127.0.0.1:\(port)/"))?.status == 200 { return false }
                }
                return true
            }
        } catch {
            Issue.record("\(error)\nlogs:\n\(cluster.logs())\nscheduler: \(process.logTail(30))")
        }
        await process.stop()
        Self.removeContainers(under: cluster.workDir)
        await cluster.stop()
    }
}
