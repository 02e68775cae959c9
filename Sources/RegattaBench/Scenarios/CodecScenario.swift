// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore

/// Messages per second through Foundation's coders (`MesosJSON.encode`/`decode`, one reused encoder or decoder) and
/// through the fast codecs (`MesosJSON.encodeFast`/`decodeFast`), for the protocol messages of a deploy at scale.
///
/// In-process, no I/O: each case runs for a fixed time and the best of `rounds` runs (at most 3) is reported.
enum CodecScenario {
    /// One measured message: what is timed, on which bytes.
    private struct Case {
        var name: String
        var bytes: Int
        var foundation: () throws -> Int
        var fast: () throws -> Int
    }

    static func run(options: BenchOptions, logger: Logger) throws -> BenchReport {
        let repeats = max(1, min(options.rounds, 3))
        let window = Duration.milliseconds(400)
        var report = BenchReport(scenario: BenchScenario.codec.rawValue)
        report.set("repeats", repeats)
        for testCase in try self.cases() {
            let foundation = try self.rate(of: testCase.foundation, window: window, repeats: repeats)
            let fast = try self.rate(of: testCase.fast, window: window, repeats: repeats)
            report.set("\(testCase.name)_bytes", testCase.bytes)
            report.set("\(testCase.name)_foundation_msgs_per_s", foundation)
            report.set("\(testCase.name)_fast_msgs_per_s", fast)
            report.set("\(testCase.name)_speedup", fast / foundation)
            logger.info(
                "Codec case",
                metadata: [
                    LogKey.scenario: "codec", "case": "\(testCase.name)", "foundation": "\(foundation)",
                    "fast": "\(fast)",
                ]
            )
        }
        report.notes.append(
            "msgs_per_s: messages decoded (or encoded and decoded, for _roundtrip cases) per second on one thread, best of \(repeats) runs of \(window); Foundation reuses one JSONEncoder/JSONDecoder and is given Data, the fast path [UInt8]."
        )
        report.notes.append(
            "Every case first checks that both paths decode the message to the value it was made from."
        )
        return report
    }

    /// Messages per second: how often `body` runs in `window`, best of `repeats`.
    private static func rate(of body: () throws -> Int, window: Duration, repeats: Int) throws -> Double {
        let clock = ContinuousClock()
        var best = 0.0
        var sink = 0
        for _ in 0..<repeats {
            var count = 0
            let start = clock.now
            var elapsed = Duration.zero
            while elapsed < window {
                for _ in 0..<16 { sink &+= try body() }
                count += 16
                elapsed = clock.now - start
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = max(best, Double(count) / seconds)
        }
        guard sink != 0 else { throw BenchError(.setupFailed, "The codec benchmark's messages decoded to nothing.") }
        return best
    }

    /// A decode case: Foundation's `MesosJSON.decode` against `decodeFast`, after checking both give `value`.
    private static func decoding<T: MesosJSONCodable & Codable & Equatable>(
        _ name: String,
        _ value: T,
        weight: @escaping (T) -> Int
    ) throws -> Case {
        let bytes = Array(try MesosJSON.encode(value))
        let data = Data(bytes)
        let decoder = MesosJSON.decoder()
        guard try decoder.decode(T.self, from: data) == value, try MesosJSON.decodeFast(T.self, from: bytes) == value,
            (try? bytes.withUnsafeBytes { try JSONReader.decode(T.self, from: $0) }) != nil
        else {
            throw BenchError(.setupFailed, "The codec benchmark's \(name) message does not decode to itself.")
        }
        return Case(
            name: name,
            bytes: bytes.count,
            foundation: { weight(try decoder.decode(T.self, from: data)) },
            fast: { weight(try MesosJSON.decodeFast(T.self, from: bytes)) }
        )
    }

    /// An encode-then-decode case, as one side of a stream writes a message and the other reads it.
    private static func roundTrip<T: MesosJSONCodable & Codable & Equatable>(
        _ name: String,
        _ value: T,
        weight: @escaping (T) -> Int
    ) throws -> Case {
        let encoder = MesosJSON.encoder()
        let decoder = MesosJSON.decoder()
        guard try decoder.decode(T.self, from: encoder.encode(value)) == value,
            try MesosJSON.decodeFast(T.self, from: MesosJSON.encodeFast(value)) == value
        else {
            throw BenchError(.setupFailed, "The codec benchmark's \(name) message does not round-trip.")
        }
        return Case(
            name: name,
            bytes: try MesosJSON.encodeFast(value).count,
            foundation: { weight(try decoder.decode(T.self, from: encoder.encode(value))) },
            fast: { weight(try MesosJSON.decodeFast(T.self, from: MesosJSON.encodeFast(value))) }
        )
    }

    private static func cases() throws -> [Case] {
        let framework = FrameworkID("7c1e3f4a-91b2-4f7e-8d6b-2f1a0c9e5d13-0000")
        let tasks = (0..<100).map { self.task(index: $0) }
        let status = TaskStatus(
            taskId: tasks[0].taskId,
            state: .running,
            source: .executor,
            agentId: tasks[0].agentId,
            timestamp: 1_718_000_000.123456,
            uuid: "3rLBQ8xgR9y6F1wfOQx3Ng==",
            healthy: true
        )
        let agentInfo = AgentInfo(
            hostname: "agent-00042.rack-4.example.com",
            port: 5051,
            resources: try Resources.parse("cpus:4;mem:8192;disk:10240;ports:[31000-32000]"),
            attributes: [
                Attribute(name: "rack", value: .text("rack-4")), Attribute(name: "zone", value: .text("zone-1")),
            ],
            id: tasks[0].agentId
        )

        var accept = SchedulerCall(frameworkId: framework, type: .accept)
        accept.accept = .init(
            offerIds: [OfferID("a3f5-O1234")],
            operations: [.launch(Array(tasks.prefix(10)))],
            filters: Filters(refuseSeconds: 5)
        )
        var acknowledge = SchedulerCall(frameworkId: framework, type: .acknowledge)
        acknowledge.acknowledge = .init(agentId: status.agentId!, taskId: status.taskId, uuid: status.uuid!)
        let offers = (0..<100).map { index in
            Offer(
                id: OfferID("a3f5-O\(index)"),
                frameworkId: framework,
                agentId: AgentID("a3f5-S\(index)"),
                hostname: "agent-\(index).example.com",
                resources: agentInfo.resources.allocated(to: "*"),
                attributes: agentInfo.attributes,
                role: "*"
            )
        }
        let launch = AgentMessage.launch(
            .init(
                frameworkId: framework,
                frameworkInfo: FrameworkInfo(
                    user: "root",
                    name: "regatta",
                    id: framework,
                    failoverTimeout: 604_800,
                    checkpoint: true,
                    roles: ["*"],
                    capabilities: [.init(type: "PARTITION_AWARE")]
                ),
                task: tasks[0]
            )
        )

        return [
            try self.decoding(
                "agent_call_update",
                AgentCall.update(agent: status.agentId!, framework: framework, status: status)
            ) {
                ($0.update?.status.state.number ?? 0) + 1
            },
            try self.decoding(
                "agent_call_subscribe_100_tasks",
                AgentCall.subscribe(
                    .init(
                        agentInfo: agentInfo,
                        tasks: tasks.map { AgentTask(frameworkId: framework, task: $0, state: .running) },
                        capabilities: ["DOCKER"],
                        version: "0.4.0"
                    )
                )
            ) { $0.subscribe?.tasks.count ?? 0 },
            try self.roundTrip("agent_message_launch_roundtrip", launch) { $0.launch?.task.name.utf8.count ?? 0 },
            try self.decoding("scheduler_call_acknowledge", acknowledge) { $0.acknowledge?.uuid.utf8.count ?? 0 },
            try self.decoding("scheduler_call_accept_10_tasks", accept) {
                $0.accept?.operations?.first?.launch?.taskInfos.count ?? 0
            },
            try self.roundTrip("scheduler_event_update_roundtrip", SchedulerEvent.update(status)) {
                $0.update?.status.uuid?.utf8.count ?? 0
            },
            try self.roundTrip("scheduler_event_offers_100_roundtrip", SchedulerEvent.offers(offers)) {
                $0.offers?.offers.count ?? 0
            },
        ]
    }

    /// A task as the scheduler launches it for a Marathon app: a shell command, Marathon's environment, a port,
    /// labels and a health check.
    private static func task(index: Int) -> TaskInfo {
        let taskID = TaskID(
            "web_api.instance-\(UUID(uuidString: "7C1E3F4A-91B2-4F7E-8D6B-2F1A0C9E5D13")!.uuidString.lowercased())-\(index)._app.1"
        )
        let port = 31_000 + index
        let environment: [String: String] = [
            "MARATHON_APP_ID": "/web/api", "MARATHON_APP_VERSION": "2024-06-10T12:00:00.000Z",
            "MARATHON_APP_DOCKER_IMAGE": "", "MARATHON_APP_RESOURCE_CPUS": "0.01", "MARATHON_APP_RESOURCE_MEM": "8.0",
            "MARATHON_APP_RESOURCE_DISK": "0.0", "MARATHON_APP_LABELS": "TEAM", "MARATHON_APP_LABEL_TEAM": "payments",
            "MESOS_TASK_ID": taskID.value, "HOST": "agent-00042.rack-4.example.com", "PORT0": "\(port)",
            "PORT": "\(port)", "PORTS": "\(port)",
        ]
        var task = TaskInfo(
            name: "api.web",
            taskId: taskID,
            agentId: AgentID("a3f5e2c1-4b7d-4e21-9f0a-5c3b2d1e0f98-S42"),
            resources: (try? Resources([
                .scalar("cpus", 0.01), .scalar("mem", 8), .ranges("ports", RangeSet(values: [UInt64(port)])),
            ])) ?? Resources(),
            command: .shell("python3 -m http.server $PORT0 --bind 0.0.0.0", environment: environment),
            labels: Labels(["TEAM": "payments", "MARATHON_APP_VERSION": "2024-06-10T12:00:00.000Z"])
        )
        task.healthCheck = HealthCheck(
            type: .http,
            delaySeconds: 15,
            intervalSeconds: 10,
            timeoutSeconds: 20,
            consecutiveFailures: 3,
            gracePeriodSeconds: 300,
            http: .init(scheme: "http", port: UInt32(port), path: "/health")
        )
        task.killPolicy = KillPolicy(gracePeriod: DurationInfo(seconds: 5))
        return task
    }
}
