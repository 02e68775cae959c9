// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// The unmodified `marathon` PyPI client (marathon-python, in a virtualenv) against a `regatta dev` cluster.
@Suite(.serialized) struct MarathonClientTests {
    /// The venv's python with marathon-python installed (scripts/python-clients.sh).
    static func python() throws -> String {
        let setup = try run("/bin/bash", [Package.root.appendingPathComponent("scripts/python-clients.sh").path])
        try #require(setup.status == 0, "installing the Python clients failed: \(setup.output)")
        return setup.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func marathonPythonDrivesAppsTasksQueueDeploymentsAndEvents() async throws {
        // Given marathon-python and a dev cluster
        let python = try Self.python()
        let cluster = try await DevCluster.start()
        defer { try? FileManager.default.removeItem(at: cluster.workDir) }
        // When the client script creates, lists, updates, scales, restarts, kills, queues and deletes
        let script = Package.root.appendingPathComponent("Tests/IntegrationTests/Python/marathon_client.py").path
        let result = try run(python, [script, cluster.scheduler])
        // Then every call succeeded and parsed into the client's models
        #expect(
            result.status == 0,
            "marathon client output:\n\(result.output)\n--- dev log:\n\(cluster.process.logTail(60))"
        )
        for step in [
            "ping", "get_info", "event_stream attached", "create_app", "list_apps", "get_app", "update_app",
            "update_app with a fetched app", "scale_app", "rollback_app", "restart_app", "kill_task",
            "kill_given_tasks", "kill_tasks", "list_tasks", "list_queue", "list_deployments", "delete_deployment",
            "event_stream events", "delete_app",
        ] {
            #expect(result.output.contains("ok: \(step)\n"), "step '\(step)' did not pass")
        }
        #expect(result.output.contains("ALL OK"))
        await cluster.process.stop()
    }

    /// An open `/v2/events` stream must not hold up a graceful shutdown (it would until the SIGKILL fallback).
    @Test func openEventStreamDoesNotHoldUpShutdown() async throws {
        // Given a client attached to the event stream
        let cluster = try await DevCluster.start()
        defer { try? FileManager.default.removeItem(at: cluster.workDir) }
        var request = HTTPClientRequest(url: "\(cluster.scheduler)/v2/events")
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        #expect(response.status == .ok, "dev log:\n\(cluster.process.logTail(40))")
        #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
        var body = response.body.makeAsyncIterator()
        let first = try await body.next().map { String(buffer: $0) } ?? ""
        #expect(first.contains("event: event_stream_attached"))
        // When the cluster is stopped with SIGTERM
        let started = ContinuousClock.now
        await cluster.process.stop(timeout: .seconds(30))
        // Then it exited by itself, promptly, and the stream ended
        #expect(cluster.process.process.terminationReason == .exit, "regatta had to be killed")
        #expect(ContinuousClock.now - started < .seconds(15))
        while try await body.next() != nil {}
    }
}
