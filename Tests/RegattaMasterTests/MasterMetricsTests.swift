// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

@Suite struct MasterMetricsTests {
    /// One agent (4 cpus, 8 GiB, 10 GiB of disk) running one task (1 cpu, 128 MB) of one framework.
    static func oneRunningTask() throws -> MasterHarness {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], refuse: 0, from: framework)
        _ = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .running)),
            from: agent,
            now: h.now
        )
        return h
    }

    @Test(arguments: [true, false])
    func prometheusTextIsTheGoldenOneWithElectedAsPassedIn(elected: Bool) throws {
        // Given a master with one running task
        let h = try Self.oneRunningTask()

        // When its metrics are computed, elected or not
        let metrics = MasterMetrics(state: h.state, elected: elected, uptimeSeconds: 12.5)

        // Then the text is the golden one, gauges in name order, `master/elected` as passed in
        let electedText = elected ? "1.0" : "0.0"
        let golden = """
            # TYPE mesos_master_cpus_percent gauge
            mesos_master_cpus_percent 0.25
            # TYPE mesos_master_cpus_total gauge
            mesos_master_cpus_total 4.0
            # TYPE mesos_master_cpus_used gauge
            mesos_master_cpus_used 1.0
            # TYPE mesos_master_disk_percent gauge
            mesos_master_disk_percent 0.0
            # TYPE mesos_master_disk_total gauge
            mesos_master_disk_total 10240.0
            # TYPE mesos_master_disk_used gauge
            mesos_master_disk_used 0.0
            # TYPE mesos_master_elected gauge
            mesos_master_elected \(electedText)
            # TYPE mesos_master_frameworks_active gauge
            mesos_master_frameworks_active 1.0
            # TYPE mesos_master_frameworks_connected gauge
            mesos_master_frameworks_connected 1.0
            # TYPE mesos_master_frameworks_disconnected gauge
            mesos_master_frameworks_disconnected 0.0
            # TYPE mesos_master_gpus_percent gauge
            mesos_master_gpus_percent 0.0
            # TYPE mesos_master_gpus_total gauge
            mesos_master_gpus_total 0.0
            # TYPE mesos_master_gpus_used gauge
            mesos_master_gpus_used 0.0
            # TYPE mesos_master_mem_percent gauge
            mesos_master_mem_percent 0.015625
            # TYPE mesos_master_mem_total gauge
            mesos_master_mem_total 8192.0
            # TYPE mesos_master_mem_used gauge
            mesos_master_mem_used 128.0
            # TYPE mesos_master_messages_status_update gauge
            mesos_master_messages_status_update 1.0
            # TYPE mesos_master_messages_status_update_acknowledgement gauge
            mesos_master_messages_status_update_acknowledgement 0.0
            # TYPE mesos_master_outstanding_offers gauge
            mesos_master_outstanding_offers 0.0
            # TYPE mesos_master_slaves_active gauge
            mesos_master_slaves_active 1.0
            # TYPE mesos_master_slaves_connected gauge
            mesos_master_slaves_connected 1.0
            # TYPE mesos_master_slaves_disconnected gauge
            mesos_master_slaves_disconnected 0.0
            # TYPE mesos_master_slaves_inactive gauge
            mesos_master_slaves_inactive 0.0
            # TYPE mesos_master_slaves_unreachable gauge
            mesos_master_slaves_unreachable 0.0
            # TYPE mesos_master_tasks_dropped gauge
            mesos_master_tasks_dropped 0.0
            # TYPE mesos_master_tasks_error gauge
            mesos_master_tasks_error 0.0
            # TYPE mesos_master_tasks_failed gauge
            mesos_master_tasks_failed 0.0
            # TYPE mesos_master_tasks_finished gauge
            mesos_master_tasks_finished 0.0
            # TYPE mesos_master_tasks_gone gauge
            mesos_master_tasks_gone 0.0
            # TYPE mesos_master_tasks_killed gauge
            mesos_master_tasks_killed 0.0
            # TYPE mesos_master_tasks_killing gauge
            mesos_master_tasks_killing 0.0
            # TYPE mesos_master_tasks_lost gauge
            mesos_master_tasks_lost 0.0
            # TYPE mesos_master_tasks_running gauge
            mesos_master_tasks_running 1.0
            # TYPE mesos_master_tasks_staging gauge
            mesos_master_tasks_staging 0.0
            # TYPE mesos_master_tasks_starting gauge
            mesos_master_tasks_starting 0.0
            # TYPE mesos_master_tasks_unreachable gauge
            mesos_master_tasks_unreachable 0.0
            # TYPE mesos_master_uptime_secs gauge
            mesos_master_uptime_secs 12.5

            """
        #expect(metrics.prometheusText == golden)
        #expect(metrics.values["master/elected"] == (elected ? 1 : 0))
        #expect(metrics.values.count == 37)
    }
}
