// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@Suite struct SchedulerEventTests {
    @Test func decodesSubscribed() throws {
        // When
        let (event, encoded) = try JSONInspection.roundTrip(SchedulerEvent.self, MesosExamples.subscribed)
        // Then
        #expect(event.type == .subscribed)
        #expect(event.subscribed?.frameworkId == "12220-3440-12532-2345")
        #expect(event.subscribed?.heartbeatIntervalSeconds == 15)
        let master = try #require(event.subscribed?.masterInfo)
        #expect(master.id == "a1b2c3")
        #expect(master.ip == MasterInfo.packIPv4("127.0.0.1"))
        #expect(master.port == 5050)
        #expect(master.pid == "master@127.0.0.1:5050")
        #expect(master.address?.ip == "127.0.0.1")
        let keys = try JSONInspection.allKeys(in: encoded)
        #expect(keys.isSuperset(of: ["framework_id", "heartbeat_interval_seconds", "master_info"]))
    }

    @Test func masterInfoPacksIPv4AsMesosDoes() {
        #expect(MasterInfo.packIPv4("127.0.0.1") == 16_777_343)
        #expect(MasterInfo.packIPv4("10.0.0.5") == 83_886_090)
        #expect(MasterInfo.packIPv4("not an ip") == 0)
        let info = MasterInfo(id: "m", ip: "127.0.0.1", port: 5050, hostname: "localhost", version: "1.12.0")
        #expect(info.pid == "master@127.0.0.1:5050")
        #expect(info.address == .init(hostname: "localhost", ip: "127.0.0.1", port: 5050))
    }

    @Test func decodesOffers() throws {
        // When
        let (event, encoded) = try JSONInspection.roundTrip(SchedulerEvent.self, MesosExamples.offers)
        // Then
        #expect(event.type == .offers)
        let offer = try #require(event.offers?.offers.first)
        #expect(offer.id == "12214-23523-O235235")
        #expect(offer.frameworkId == "12124-235325-32425")
        #expect(offer.agentId == "12325-23523-S23523")
        #expect(offer.hostname == "agent.host")
        #expect(offer.url?.address.port == 5051)
        #expect(offer.allocationInfo?.role == "test")
        #expect(offer.executorIds == [])
        #expect(offer.resources.count == 4)
        #expect(offer.resources.allSatisfy { $0.allocationRole == "test" })
        let expected = try Resources.parse("cpus:24;mem:24576.5;ports:[31000-32000,33000-33010];disk(test):100")
        #expect(offer.bag == expected)
        #expect(offer.bag.ranges("ports").count == 1001 + 11)

        let attributes = try #require(offer.attributes)
        #expect(attributes.map(\.name) == ["rack", "zone", "slots", "tags"])
        #expect(attributes.map(\.stringValue) == ["a", "1", "[1-4]", "{gpu,ssd}"])
        #expect(attributes[1].value == .scalar(Scalar(1)))

        let keys = try JSONInspection.allKeys(in: encoded)
        #expect(
            keys.isSuperset(of: [
                "framework_id", "agent_id", "allocation_info", "executor_ids", "reservations", "scalar", "ranges",
                "range",
            ])
        )
    }

    @Test func decodesUpdateWithATaskStatus() throws {
        // When
        let (event, encoded) = try JSONInspection.roundTrip(SchedulerEvent.self, MesosExamples.update)
        // Then
        #expect(event.type == .update)
        let status = try #require(event.update?.status)
        #expect(status.taskId == "12344-my-task")
        #expect(status.state == .running)
        #expect(status.source == .executor)
        #expect(status.uuid == "adfadfadbhgvjayd23r2uahj")
        #expect(status.agentId == "12325-23523-S23523")
        #expect(status.executorId == "12344-my-task")
        #expect(status.message == "container is running")
        #expect(status.reason == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED")
        #expect(status.timestamp == 1_700_000_000.25)
        #expect(status.healthy == true)
        #expect(status.labels?["k"] == "v")
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        let encodedStatus = ((object["update"] as? [String: Any])?["status"] as? [String: Any])
        #expect(encodedStatus?["state"] as? String == "TASK_RUNNING")
        #expect(try JSONInspection.allKeys(in: encoded).isSuperset(of: ["task_id", "agent_id", "executor_id"]))
    }

    @Test func decodesAStateSentAsANumber() throws {
        let json = #"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":2,"source":"SOURCE_AGENT"}}}"#
        let (event, _) = try JSONInspection.roundTrip(SchedulerEvent.self, json)
        #expect(event.update?.status.state == .finished)
        #expect(event.update?.status.source == .agent)
    }

    @Test func decodesUnreachableTime() throws {
        let json = #"""
            {"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_UNREACHABLE",
             "unreachable_time":{"nanoseconds":1700000000000000000}}}}
            """#
        let (event, encoded) = try JSONInspection.roundTrip(SchedulerEvent.self, json)
        #expect(event.update?.status.unreachableTime == TimeInfo(nanoseconds: 1_700_000_000_000_000_000))
        #expect(try JSONInspection.allKeys(in: encoded).contains("unreachable_time"))
    }

    @Test func decodesRescindFailureAndMessage() throws {
        let rescind = #"{"type":"RESCIND","rescind":{"offer_id":{"value":"12214-23523-O235235"}}}"#
        #expect(try JSONInspection.roundTrip(SchedulerEvent.self, rescind).value == .rescind("12214-23523-O235235"))

        let failure = """
            {"type":"FAILURE","failure":{"agent_id":{"value":"12214-23523-S235235"},
             "executor_id":{"value":"12214-23523-my-executor"},"status":1}}
            """
        let decoded = try JSONInspection.roundTrip(SchedulerEvent.self, failure).value
        #expect(decoded.failure?.agentId == "12214-23523-S235235")
        #expect(decoded.failure?.executorId == "12214-23523-my-executor")
        #expect(decoded.failure?.status == 1)

        let message = """
            {"type":"MESSAGE","message":{"agent_id":{"value":"12214-23523-S235235"},
             "executor_id":{"value":"12214-23523-my-executor"},"data":"adfadf3t2wa3353dfadf"}}
            """
        let decodedMessage = try JSONInspection.roundTrip(SchedulerEvent.self, message).value
        #expect(decodedMessage.message?.data == "adfadf3t2wa3353dfadf")
    }

    @Test func encodesErrorsAndHeartbeats() throws {
        let error = try MesosJSON.encode(SchedulerEvent.error("Framework is not authorized"))
        let object = try #require(try JSONSerialization.jsonObject(with: error) as? [String: Any])
        #expect(object["type"] as? String == "ERROR")
        #expect((object["error"] as? [String: Any])?["message"] as? String == "Framework is not authorized")

        // The RecordIO example in Mesos's docs: `20\n{"type":"HEARTBEAT"}`.
        let heartbeat = try MesosJSON.encode(SchedulerEvent.heartbeat)
        #expect(String(decoding: heartbeat, as: UTF8.self) == #"{"type":"HEARTBEAT"}"#)
        #expect(RecordIO.encode(heartbeat) == Array(#"20\#n{"type":"HEARTBEAT"}"#.utf8))
    }

    @Test func factoriesBuildTheMatchingType() {
        #expect(SchedulerEvent.offers([]).type == .offers)
        #expect(SchedulerEvent.update(TaskStatus(taskId: "t", state: .running)).type == .update)
        #expect(SchedulerEvent.failure(agent: "a").failure?.agentId == "a")
        #expect(SchedulerEvent.subscribed(.init(frameworkId: "f", heartbeatIntervalSeconds: 15)).type == .subscribed)
    }
}
