// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// Scheduler-run health checks: results change an instance's health (written, and counted by deployments), and an
/// instance failing its checks is killed and replaced.
@Suite struct SchedulerStateHealthTests {
    static func healthChecked() -> (MachineDriver, Instance) {
        var m = MachineDriver()
        m.subscribe()
        var app = Fixture.app(instances: 1)
        app.healthChecks = [AppHealthCheck(protocol: "HTTP", path: "/health", portIndex: 0)]
        m.createApp(app)
        let task = m.offer([Fixture.offer()])[0]
        m.update(task.taskId, .running, uuid: "u")
        return (m, m.state.instance(forTask: task.taskId)!)
    }

    static func result(_ instance: Instance, alive: Bool) -> HealthCheckResult {
        HealthCheckResult(alive: alive, consecutiveFailures: alive ? 0 : 1, instanceId: instance.id)
    }

    @Test func aHealthyInstanceIsWrittenAndFinishesTheDeployment() {
        var (m, instance) = Self.healthChecked()
        #expect(m.state.healthTargets().map(\.instanceId) == [instance.id])
        #expect(!m.state.deployments.isEmpty, "running but not yet healthy")
        m.command(.healthResultsChanged(instanceId: instance.id, results: [Self.result(instance, alive: true)]))
        m.settle()
        #expect(m.state.instances[instance.id]?.healthy == true)
        #expect(
            m.writes.contains {
                $0.contains { if case .saveInstances(let saved) = $0 { saved.first?.healthy == true } else { false } }
            }
        )
        #expect(m.state.deployments.isEmpty)
        #expect(
            m.published.contains(
                .healthStatusChanged(appId: "/web", instanceId: instance.id, version: instance.version, alive: true)
            )
        )
    }

    @Test func anUnhealthyInstanceIsKilledAndReplaced() throws {
        var (m, instance) = Self.healthChecked()
        m.command(.killUnhealthy(instanceId: instance.id, check: AppHealthCheck(protocol: "HTTP"), reason: "timeout"))
        m.settle()
        #expect(m.calls(.kill).compactMap { $0.kill?.taskId } == [instance.taskId])
        #expect(m.state.instances[instance.id]?.killRequested == false, "replaced once its task ends")
        m.update(instance.taskId, .killed, uuid: "k")
        #expect(m.offer([Fixture.offer("o2")]).count == 1)
    }
}
