// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// Scheduler-side HTTP health checks against real tasks of a `regatta dev` cluster.
@Suite(.serialized) struct HealthCheckTests {
    /// A Marathon HTTP health check: every second, a 2 s grace period, killed after 2 failures in a row.
    static func app(_ id: String, checkPath: String) -> [String: Any] {
        [
            "id": id, "cmd": "exec python3 -m http.server $PORT0", "cpus": 0.1, "mem": 32, "instances": 1,
            "healthChecks": [
                [
                    "protocol": "HTTP", "path": checkPath, "portIndex": 0, "intervalSeconds": 1,
                    "gracePeriodSeconds": 2, "timeoutSeconds": 1, "maxConsecutiveFailures": 2,
                ]
            ],
        ]
    }

    static func appInfo(_ cluster: DevCluster, _ id: String) async throws -> [String: Any] {
        let response = try await HTTP.get("\(cluster.scheduler)/v2/apps\(id)")
        return (response.json as? [String: Any])?["app"] as? [String: Any] ?? [:]
    }

    @Test func anAppThatAnswersItsCheckBecomesHealthyAndAnAppThatDoesNotIsReplaced() async throws {
        let cluster = try await DevCluster.start()
        defer { try? FileManager.default.removeItem(at: cluster.workDir) }
        do {
            // Given two apps: one whose check path exists, one whose check path answers 404
            let healthy = try await HTTP.request(
                .POST,
                "\(cluster.scheduler)/v2/apps",
                json: Self.app("/hc-ok", checkPath: "/")
            )
            #expect(healthy.status == 201)
            let broken = try await HTTP.request(
                .POST,
                "\(cluster.scheduler)/v2/apps",
                json: Self.app("/hc-404", checkPath: "/no-such-page")
            )
            #expect(broken.status == 201)

            // Then the first becomes healthy, with Marathon's healthCheckResults
            try await eventually(timeout: .seconds(30), "/hc-ok has a healthy task") {
                try await Self.appInfo(cluster, "/hc-ok")["tasksHealthy"] as? Int == 1
            }
            let task = try #require(try await cluster.running("/hc-ok").first)
            let results = try #require(task["healthCheckResults"] as? [[String: Any]])
            #expect(results.count == 1)
            #expect(results.first?["alive"] as? Bool == true)
            #expect(results.first?["consecutiveFailures"] as? Int == 0)
            #expect(results.first?["firstSuccess"] is String)

            // And the second is killed and replaced by a new task within seconds
            try await eventually(timeout: .seconds(30), "/hc-404 has a running task") {
                try await cluster.running("/hc-404").count == 1
            }
            let first = try #require(try await cluster.running("/hc-404").first?["id"] as? String)
            try await eventually(timeout: .seconds(30), "/hc-404's task \(first) is replaced") {
                let running = try await cluster.running("/hc-404")
                return running.count == 1 && running.first?["id"] as? String != first
            }
            let app = try await Self.appInfo(cluster, "/hc-404")
            #expect(app["tasksHealthy"] as? Int == 0)
            // Because of its health check (not, say, a crash)
            let log = cluster.process.logTail(100_000)
            #expect(log.contains("Killing an unhealthy instance") && log.contains(first), "\(log)")
            // The healthy app was left alone meanwhile
            #expect(try await cluster.running("/hc-ok").first?["id"] as? String == task["id"] as? String)
        } catch {
            Issue.record("dev cluster log:\n\(cluster.process.logTail(80))")
            await cluster.process.stop()
            throw error
        }
        await cluster.process.stop()
    }
}
