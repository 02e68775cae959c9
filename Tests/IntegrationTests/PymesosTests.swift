// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// The unmodified `pymesos` library (from PyPI, in a virtualenv) against a real master and two real agents.
@Suite(.serialized) struct PymesosTests {
    @Test func pymesosSchedulerLaunchesATaskAndSeesItFinish() async throws {
        // Given a master, two agents, and pymesos installed in a virtualenv
        let setup = try run("/bin/bash", [Package.root.appendingPathComponent("scripts/python-clients.sh").path])
        try #require(setup.status == 0, "installing pymesos failed: \(setup.output)")
        let python = setup.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let cluster = try await MasterCluster(agents: 2)
        // When the pymesos framework runs
        let script = Package.root.appendingPathComponent("Tests/IntegrationTests/Python/pymesos_framework.py").path
        let result = try run(python, [script, "127.0.0.1:\(cluster.masterPort)", "2"])
        // Then it registered, got offers from both agents, and saw TASK_RUNNING then TASK_FINISHED
        #expect(result.status == 0, "pymesos output:\n\(result.output)\n\(cluster.logs())")
        #expect(result.output.contains("registered"))
        #expect(result.output.contains("status pymesos-hello TASK_RUNNING"))
        #expect(result.output.contains("status pymesos-hello TASK_FINISHED"))
        #expect(try await cluster.metric("master/tasks_finished") == 1)
        #expect(
            try await cluster.metric("master/messages_status_update_acknowledgement") ?? 0 >= 2,
            "pymesos acknowledged the updates"
        )
        await cluster.stop()
    }
}
