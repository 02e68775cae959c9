// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@Suite struct SchedulerCallTests {
    @Test func decodesSubscribe() throws {
        // When
        let (call, encoded) = try JSONInspection.roundTrip(SchedulerCall.self, MesosExamples.subscribe)
        // Then
        #expect(call.type == .subscribe)
        #expect(call.frameworkId == nil)
        let info = try #require(call.subscribe?.frameworkInfo)
        #expect(info.user == "foo")
        #expect(info.name == "Example HTTP Framework")
        #expect(info.roles == ["test"])
        #expect(info.effectiveRoles == ["test"])
        #expect(info.has(capability: "MULTI_ROLE"))
        #expect(info.has(capability: "PARTITION_AWARE"))
        #expect(!info.has(capability: "GPU_RESOURCES"))
        #expect(info.failoverTimeout == 604800)
        #expect(info.checkpoint == true)
        #expect(info.webuiUrl == "http://scheduler.host:8080")
        let keys = try JSONInspection.allKeys(in: encoded)
        #expect(keys.isSuperset(of: ["framework_info", "failover_timeout", "webui_url", "capabilities"]))
    }

    @Test func decodesAcceptWithALaunch() throws {
        // When
        let (call, encoded) = try JSONInspection.roundTrip(SchedulerCall.self, MesosExamples.acceptLaunch)
        // Then
        #expect(call.type == .accept)
        #expect(call.frameworkId == "12220-3440-12532-2345")
        let accept = try #require(call.accept)
        #expect(accept.offerIds == ["12220-3440-12532-O12", "12220-3440-12532-O13"])
        #expect(accept.filters?.refuseSeconds == 5)
        let operation = try #require(accept.operations?.first)
        #expect(operation.type == "LAUNCH")
        let task = try #require(operation.launch?.taskInfos.first)
        #expect(task.name == "web")
        #expect(task.taskId == "web.instance-7c1e._app.1")
        #expect(task.agentId == "12325-23523-S23523")
        #expect(task.resources == (try Resources.parse("cpus:0.5;mem:128;ports:[31000-31000]")))

        let command = try #require(task.command)
        #expect(command.isShell)
        #expect(command.value == "nginx -g 'daemon off;'")
        #expect(command.environment?.dictionary == ["PORT0": "31000", "MARATHON_APP_ID": "/web"])
        #expect(command.uris?.first?.value == "https://example.com/site.tgz")
        #expect(command.uris?.first?.extract == true)
        #expect(command.uris?.first?.outputFile == "site.tgz")
        #expect(command.user == "nobody")

        let container = try #require(task.container)
        #expect(container.type == .docker)
        #expect(container.docker?.image == "nginx:1.25")
        #expect(container.docker?.network == .bridge)
        #expect(container.docker?.portMappings == [.init(hostPort: 31000, containerPort: 80, protocol: "tcp")])
        #expect(container.docker?.privileged == false)
        #expect(container.docker?.parameters == [.init(key: "label", value: "team=web")])
        #expect(container.volumes?.first?.containerPath == "/data")

        let check = try #require(task.healthCheck)
        #expect(check.type == .http)
        #expect(check.http?.port == 80)
        #expect(check.http?.path == "/health")
        #expect(check.http?.statuses == [200, 204])
        #expect(check.intervalSeconds == 10)
        #expect(check.timeoutSeconds == 20)
        #expect(check.consecutiveFailures == 3)
        #expect(check.gracePeriodSeconds == 10)
        #expect(check.delaySeconds == 15)
        #expect(task.killPolicy?.gracePeriod?.duration == .seconds(5))
        #expect(task.labels?["app"] == "web")

        let keys = try JSONInspection.allKeys(in: encoded)
        #expect(
            keys.isSuperset(of: [
                "framework_id", "offer_ids", "task_infos", "task_id", "agent_id", "port_mappings", "host_port",
                "container_port", "force_pull_image", "health_check", "interval_seconds", "timeout_seconds",
                "consecutive_failures", "grace_period_seconds", "delay_seconds", "kill_policy", "grace_period",
                "refuse_seconds", "container_path", "output_file",
            ])
        )
    }

    @Test func encodesALaunchBuiltInSwiftWithMesosNames() throws {
        // Given
        let task = TaskInfo(
            name: "web",
            taskId: "t1",
            agentId: "a1",
            resources: try Resources.parse("cpus:0.1;mem:32"),
            command: .shell("sleep 60", environment: ["A": "1"]),
            container: ContainerInfo(
                type: .docker,
                docker: DockerInfo(
                    image: "busybox",
                    network: .bridge,
                    portMappings: [.init(hostPort: 31001, containerPort: 8080, protocol: "tcp")]
                )
            ),
            healthCheck: HealthCheck(type: .tcp, intervalSeconds: 5, tcp: .init(port: 8080)),
            killPolicy: KillPolicy(gracePeriod: DurationInfo(seconds: 3))
        )
        var call = SchedulerCall(frameworkId: "f1", type: .accept)
        call.accept = .init(offerIds: ["o1"], operations: [.launch([task])], filters: Filters(refuseSeconds: 1))
        // When
        let encoded = try MesosJSON.encode(call)
        // Then
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["type"] as? String == "ACCEPT")
        #expect((object["framework_id"] as? [String: Any])?["value"] as? String == "f1")
        let accept = try #require(object["accept"] as? [String: Any])
        #expect((accept["offer_ids"] as? [[String: Any]])?.first?["value"] as? String == "o1")
        #expect((accept["filters"] as? [String: Any])?["refuse_seconds"] as? Double == 1)
        let keys = try JSONInspection.allKeys(in: encoded)
        #expect(keys.isSuperset(of: ["task_infos", "task_id", "agent_id", "port_mappings", "kill_policy"]))
        #expect(try MesosJSON.decode(SchedulerCall.self, from: encoded) == call)
    }

    @Test func decodesDeclineWithFilters() throws {
        let (call, encoded) = try JSONInspection.roundTrip(SchedulerCall.self, MesosExamples.decline)
        #expect(call.type == .decline)
        #expect(call.decline?.offerIds == ["12220-3440-12532-O12", "12220-3440-12532-O13"])
        #expect(call.decline?.filters?.refuseSeconds == 120.5)
        #expect(
            try JSONInspection.allKeys(in: encoded).isSuperset(of: ["offer_ids", "refuse_seconds", "framework_id"])
        )
    }

    @Test func decodesAcknowledge() throws {
        let (call, encoded) = try JSONInspection.roundTrip(SchedulerCall.self, MesosExamples.acknowledge)
        #expect(call.type == .acknowledge)
        #expect(
            call.acknowledge
                == .init(
                    agentId: "12220-3440-12532-S1233",
                    taskId: "12220-3440-12532-my-task",
                    uuid: "jhadf73jhakdlfha723adf"
                )
        )
        #expect(try JSONInspection.allKeys(in: encoded).isSuperset(of: ["agent_id", "task_id", "uuid"]))
    }

    @Test func decodesReconcile() throws {
        let (call, encoded) = try JSONInspection.roundTrip(SchedulerCall.self, MesosExamples.reconcile)
        #expect(call.type == .reconcile)
        #expect(call.reconcile?.tasks == [.init(taskId: "312325", agentId: "123535")])
        #expect(try JSONInspection.allKeys(in: encoded).isSuperset(of: ["task_id", "agent_id"]))

        // An empty list asks for implicit reconciliation.
        let implicit = #"{"framework_id":{"value":"f"},"type":"RECONCILE","reconcile":{"tasks":[]}}"#
        let (empty, _) = try JSONInspection.roundTrip(SchedulerCall.self, implicit)
        #expect(empty.reconcile?.tasks == [])
    }

    @Test func decodesKill() throws {
        let (call, _) = try JSONInspection.roundTrip(SchedulerCall.self, MesosExamples.kill)
        #expect(call.type == .kill)
        #expect(call.kill?.taskId == "12220-3440-12532-my-task")
        #expect(call.kill?.agentId == "12220-3440-12532-S1233")
        #expect(call.kill?.killPolicy == nil)
    }

    @Test func decodesCallsWithoutBodies() throws {
        for type in ["TEARDOWN", "REVIVE", "SUPPRESS"] {
            let json = #"{"framework_id":{"value":"f"},"type":"\#(type)"}"#
            let (call, _) = try JSONInspection.roundTrip(SchedulerCall.self, json)
            #expect(call.type.rawValue == type)
        }
        let revive = #"{"framework_id":{"value":"f"},"type":"REVIVE","revive":{"roles":["a","b"]}}"#
        #expect(try JSONInspection.roundTrip(SchedulerCall.self, revive).value.revive?.roles == ["a", "b"])
    }

    @Test func rejectsAnUnknownCallType() {
        let error = #expect(throws: CoreError.self) {
            try MesosJSON.decode(SchedulerCall.self, from: Data(#"{"type":"BOGUS"}"#.utf8))
        }
        #expect(error?.code == .invalidJSON)
        #expect(error?.message.contains("/type") == true)
    }
}
