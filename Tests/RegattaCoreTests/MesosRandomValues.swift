// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaTestKit

/// Random values of every Mesos protocol message, every optional field present or not, strings with characters
/// that need escaping and non-ASCII text, for the fast codec's round-trip tests.
struct MesosRandomValues {
    var random: SeededGenerator

    init(seed: UInt64) {
        self.random = SeededGenerator(seed: seed)
    }

    mutating func chance(_ percent: Int = 50) -> Bool { Int.random(in: 0..<100, using: &self.random) < percent }

    mutating func maybe<T>(_ make: (inout Self) -> T) -> T? { self.chance() ? make(&self) : nil }

    mutating func count(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self.random) }

    mutating func list<T>(_ range: ClosedRange<Int>, _ make: (inout Self) -> T) -> [T] {
        (0..<self.count(range)).map { _ in make(&self) }
    }

    private static let pieces: [String] = [
        "web", "a", "0", "task-1", "é", "日本", "😀", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{7f}", "\u{2028}", " ",
        "app.instance-7c1e", "TASK", "_", "http://host:8080/x", "\u{0}",
    ]

    mutating func string() -> String {
        (0..<self.count(0...4)).map { _ in Self.pieces.randomElement(using: &self.random)! }.joined()
    }

    mutating func word() -> String { "w\(self.count(0...1_000_000))" }

    mutating func double() -> Double {
        switch self.count(0...6) {
        case 0: Double(self.count(-1000...1000))
        case 1: Double.random(in: -1e6...1e6, using: &self.random)
        case 2: Double.random(in: 0...1, using: &self.random)
        case 3: Double(self.count(0...1_000_000)) / 1000
        case 4:
            Double(
                sign: .plus,
                exponent: self.count(-1000...1000),
                significand: Double.random(in: 1..<2, using: &self.random)
            )
        case 5:
            [0.0, -0.0, 1e15, 1e16, 9_007_199_254_740_992, 123456789.125, 0.1, 1e-7, .greatestFiniteMagnitude][
                self.count(0...8)
            ]
        default: Double(Int64.random(in: -(1 << 60)...(1 << 60), using: &self.random))
        }
    }

    mutating func bool() -> Bool { self.chance() }

    mutating func taskID() -> TaskID { TaskID(self.string()) }
    mutating func agentID() -> AgentID { AgentID(self.string()) }
    mutating func frameworkID() -> FrameworkID { FrameworkID(self.string()) }
    mutating func offerID() -> OfferID { OfferID(self.string()) }
    mutating func executorID() -> ExecutorID { ExecutorID(self.string()) }

    mutating func labels() -> Labels {
        Labels(self.list(0...3) { $0.label() })
    }

    mutating func label() -> Labels.Label {
        Labels.Label(key: self.string(), value: self.maybe { $0.string() })
    }

    mutating func resource(allocated: Bool = false) -> Resource {
        // Names tied to one type, so that a bag of them never mixes types.
        let name: String
        let value: Resource.Value
        switch self.count(0...2) {
        case 0:
            name = ["cpus", "mem", "disk", "gpus", "é/\\"][self.count(0...4)]
            value = .scalar(Scalar(milli: Int64(self.count(0...100_000_000))))
        case 1:
            name = ["ports", "slots"][self.count(0...1)]
            let begin = UInt64(self.count(0...60_000))
            var ranges = [ValueRange(begin: begin, end: begin + UInt64(self.count(0...100)))]
            if self.chance() { ranges.append(ValueRange(begin: UInt64.max - 5, end: UInt64.max)) }
            value = .ranges(RangeSet(ranges))
        default:
            name = "tags"
            value = .set(Set(self.list(0...3) { $0.string() }))
        }
        let role = self.chance(70) ? "*" : self.word()
        return Resource(
            name: name,
            value: value,
            role: role,
            allocationRole: allocated || self.chance(20) ? self.word() : nil
        )
    }

    mutating func resources() -> Resources {
        let list = self.list(0...5) { random in
            let resource = random.resource()
            return Resource(name: resource.name, value: resource.value, role: resource.role)
        }
        return try! Resources(list)
    }

    mutating func attribute() -> Attribute {
        let value: Attribute.Value
        switch self.count(0...3) {
        case 0: value = .text(self.string())
        case 1: value = .scalar(Scalar(milli: Int64(self.count(0...1_000_000))))
        case 2: value = .ranges(RangeSet([ValueRange(begin: 1, end: UInt64(self.count(1...100)))]))
        default: value = .set(Set(self.list(0...3) { $0.string() }))
        }
        return Attribute(name: self.string(), value: value)
    }

    mutating func environment() -> Environment {
        Environment(
            self.list(0...3) { random in
                var variable = Environment.Variable(name: random.string(), value: random.string())
                if random.chance(20) { variable.value = nil }
                return variable
            }
        )
    }

    mutating func command() -> CommandInfo {
        var command = CommandInfo(
            shell: self.maybe { $0.bool() },
            value: self.maybe { $0.string() },
            arguments: self.maybe { $0.list(0...3) { $0.string() } },
            environment: self.maybe { $0.environment() },
            uris: self.maybe { random in
                random.list(0...2) { random in
                    var uri = CommandURI(
                        value: random.string(),
                        executable: random.maybe { $0.bool() },
                        extract: random.maybe { $0.bool() }
                    )
                    uri.cache = random.maybe { $0.bool() }
                    uri.outputFile = random.maybe { $0.string() }
                    return uri
                }
            },
            user: self.maybe { $0.string() }
        )
        if self.chance(10) { command = CommandInfo() }
        return command
    }

    mutating func container() -> ContainerInfo {
        var container = ContainerInfo(
            type: self.bool() ? .docker : .mesos,
            docker: self.maybe { random in
                DockerInfo(
                    image: random.string(),
                    network: random.maybe { _ in [.host, .bridge, .none, .user][Int.random(in: 0...3)] },
                    portMappings: random.maybe { random in
                        random.list(0...3) { random in
                            DockerInfo.PortMapping(
                                hostPort: UInt32(random.count(0...65535)),
                                containerPort: UInt32.max,
                                protocol: random.maybe { _ in "tcp" }
                            )
                        }
                    },
                    privileged: random.maybe { $0.bool() },
                    parameters: random.maybe { random in
                        random.list(0...2) { DockerInfo.Parameter(key: $0.string(), value: $0.string()) }
                    },
                    forcePullImage: random.maybe { $0.bool() }
                )
            }
        )
        container.hostname = self.maybe { $0.string() }
        if self.chance() {
            // Volume has no public initializer; build one through its Codable conformance.
            let json = #"{"container_path":"/data","host_path":"/srv/\#(self.word())","mode":"RW"}"#
            container.volumes = [try! MesosJSON.decode(ContainerInfo.Volume.self, from: Data(json.utf8))]
        }
        return container
    }

    mutating func healthCheck() -> HealthCheck {
        var http = HealthCheck.HTTPCheck(
            scheme: self.maybe { _ in "http" },
            port: UInt32(self.count(0...65535)),
            path: self.maybe { $0.string() }
        )
        http.statuses = self.maybe { $0.list(0...3) { UInt32($0.count(100...599)) } }
        return HealthCheck(
            type: [.unknown, .command, .http, .tcp][self.count(0...3)],
            delaySeconds: self.maybe { $0.double() },
            intervalSeconds: self.maybe { $0.double() },
            timeoutSeconds: self.maybe { $0.double() },
            consecutiveFailures: self.maybe { UInt32($0.count(0...10)) },
            gracePeriodSeconds: self.maybe { $0.double() },
            http: self.chance() ? http : nil,
            tcp: self.maybe { HealthCheck.TCPCheck(port: UInt32($0.count(0...65535))) },
            command: self.maybe { $0.command() }
        )
    }

    mutating func killPolicy() -> KillPolicy {
        KillPolicy(
            gracePeriod: self.maybe { DurationInfo(nanoseconds: Int64.random(in: .min ... .max, using: &$0.random)) }
        )
    }

    mutating func task() -> TaskInfo {
        var task = TaskInfo(
            name: self.string(),
            taskId: self.taskID(),
            agentId: self.agentID(),
            resources: self.resources(),
            command: self.maybe { $0.command() },
            container: self.maybe { $0.container() },
            healthCheck: self.maybe { $0.healthCheck() },
            killPolicy: self.maybe { $0.killPolicy() },
            labels: self.maybe { $0.labels() }
        )
        if self.chance(10) {
            let json = #"{"executor_id":{"value":"e"},"name":"x","resources":[]}"#
            task.executor = try! MesosJSON.decode(ExecutorInfo.self, from: Data(json.utf8))
        }
        return task
    }

    mutating func status() -> TaskStatus {
        var status = TaskStatus(
            taskId: self.taskID(),
            state: TaskState.allCases.randomElement(using: &self.random)!,
            message: self.maybe { $0.string() },
            source: self.maybe { [.master, .agent, .executor][$0.count(0...2)] },
            reason: self.maybe { $0.string() },
            agentId: self.maybe { $0.agentID() },
            timestamp: self.maybe { $0.double() },
            uuid: self.maybe { $0.string() },
            healthy: self.maybe { $0.bool() }
        )
        status.executorId = self.maybe { $0.executorID() }
        status.data = self.maybe { $0.string() }
        status.unreachableTime = self.maybe { TimeInfo(nanoseconds: Int64($0.count(0...Int.max))) }
        status.labels = self.maybe { $0.labels() }
        return status
    }

    mutating func frameworkInfo() -> FrameworkInfo {
        var info = FrameworkInfo(
            user: self.string(),
            name: self.string(),
            id: self.maybe { $0.frameworkID() },
            failoverTimeout: self.maybe { $0.double() },
            checkpoint: self.maybe { $0.bool() },
            roles: self.maybe { $0.list(0...3) { $0.string() } },
            hostname: self.maybe { $0.string() },
            capabilities: self.maybe { $0.list(0...3) { FrameworkInfo.Capability(type: $0.string()) } }
        )
        info.role = self.maybe { $0.string() }
        info.principal = self.maybe { $0.string() }
        info.webuiUrl = self.maybe { $0.string() }
        info.labels = self.maybe { $0.labels() }
        return info
    }

    mutating func masterInfo() -> MasterInfo {
        var info = MasterInfo(
            id: self.string(),
            ip: "10.0.\(self.count(0...255)).\(self.count(0...255))",
            port: self.count(1...65535),
            hostname: self.string(),
            version: self.string()
        )
        if self.chance(30) {
            info.pid = nil
            info.hostname = nil
            info.version = nil
            info.address = nil
        }
        return info
    }

    mutating func offer() -> Offer {
        var offer = Offer(
            id: self.offerID(),
            frameworkId: self.frameworkID(),
            agentId: self.agentID(),
            hostname: self.string(),
            resources: self.list(0...4) { $0.resource(allocated: true) },
            attributes: self.maybe { $0.list(0...3) { $0.attribute() } },
            role: self.maybe { $0.string() }
        )
        offer.executorIds = self.maybe { $0.list(0...2) { $0.executorID() } }
        if self.chance() {
            let json =
                #"{"scheme":"http","address":{"hostname":"h","ip":"10.0.0.1","port":\#(self.count(1...65535))},"path":"/slave(1)"}"#
            offer.url = try! MesosJSON.decode(Offer.URLInfo.self, from: Data(json.utf8))
        }
        return offer
    }

    // MARK: Messages

    mutating func agentCall() -> AgentCall {
        switch self.count(0...3) {
        case 0:
            return .subscribe(
                AgentCall.Subscribe(
                    agentInfo: AgentInfo(
                        hostname: self.string(),
                        port: self.maybe { $0.count(0...65535) },
                        resources: self.resources(),
                        attributes: self.maybe { $0.list(0...3) { $0.attribute() } },
                        id: self.maybe { $0.agentID() }
                    ),
                    tasks: self.list(0...4) { random in
                        AgentTask(
                            frameworkId: random.frameworkID(),
                            task: random.task(),
                            state: TaskState.allCases.randomElement(using: &random.random)!
                        )
                    },
                    capabilities: self.maybe { $0.list(0...2) { $0.string() } },
                    version: self.maybe { $0.string() }
                )
            )
        case 1:
            return .update(agent: self.agentID(), framework: self.frameworkID(), status: self.status())
        case 2:
            return .pong(agent: self.agentID())
        default:
            // Every field at once, as no real call has them.
            var call = AgentCall(type: .update, agentId: self.maybe { $0.agentID() })
            call.update = .init(frameworkId: self.frameworkID(), status: self.status())
            call.subscribe = .init(agentInfo: AgentInfo(hostname: "h", resources: self.resources()), tasks: [])
            return call
        }
    }

    mutating func agentMessage() -> AgentMessage {
        switch self.count(0...6) {
        case 0:
            return .registered(
                .init(
                    agentId: self.agentID(),
                    masterInfo: self.maybe { $0.masterInfo() },
                    pingIntervalSeconds: self.maybe { $0.double() }
                )
            )
        case 1:
            return .launch(
                .init(
                    frameworkId: self.frameworkID(),
                    frameworkInfo: self.maybe { $0.frameworkInfo() },
                    task: self.task()
                )
            )
        case 2:
            return .kill(
                .init(
                    frameworkId: self.frameworkID(),
                    taskId: self.taskID(),
                    killPolicy: self.maybe { $0.killPolicy() }
                )
            )
        case 3:
            return .acknowledge(.init(frameworkId: self.frameworkID(), taskId: self.taskID(), uuid: self.string()))
        case 4:
            return .shutdownFramework(self.frameworkID())
        case 5:
            return .error(self.string())
        default:
            return .ping
        }
    }

    mutating func schedulerCall() -> SchedulerCall {
        let types: [SchedulerCall.CallType] = [
            .subscribe, .teardown, .accept, .decline, .revive, .kill, .shutdown, .acknowledge, .reconcile, .message,
            .suppress, .unknown,
        ]
        var call = SchedulerCall(
            frameworkId: self.maybe { $0.frameworkID() },
            type: types.randomElement(using: &self.random)!
        )
        let everything = self.chance(10)
        if everything || call.type == .subscribe {
            call.subscribe = .init(
                frameworkInfo: self.frameworkInfo(),
                suppressedRoles: self.maybe { $0.list(0...2) { $0.string() } }
            )
        }
        if everything || call.type == .accept {
            var accept = SchedulerCall.Accept(
                offerIds: self.list(0...3) { $0.offerID() },
                operations: self.list(0...2) { random in
                    var operation = OfferOperation.launch(random.list(0...3) { $0.task() })
                    if random.chance(10) {
                        let json = #"{"type":"LAUNCH_GROUP","launch_group":{"task_group":{"tasks":[]}}}"#
                        operation = try! MesosJSON.decode(OfferOperation.self, from: Data(json.utf8))
                    }
                    return operation
                },
                filters: self.maybe { Filters(refuseSeconds: $0.maybe { $0.double() }) }
            )
            if self.chance(10) { accept.operations = nil }
            call.accept = accept
        }
        if everything || call.type == .decline {
            call.decline = .init(
                offerIds: self.list(0...3) { $0.offerID() },
                filters: self.maybe { Filters(refuseSeconds: $0.double()) }
            )
        }
        if everything || call.type == .revive {
            var revive = SchedulerCall.Revive(roles: self.maybe { $0.list(0...2) { $0.string() } })
            revive.role = self.maybe { $0.string() }
            call.revive = revive
        }
        if everything || call.type == .suppress {
            call.suppress = .init(roles: self.maybe { $0.list(0...2) { $0.string() } })
        }
        if everything || call.type == .kill {
            var kill = SchedulerCall.Kill(taskId: self.taskID(), agentId: self.maybe { $0.agentID() })
            kill.killPolicy = self.maybe { $0.killPolicy() }
            call.kill = kill
        }
        if everything || call.type == .shutdown {
            let json = #"{"executor_id":{"value":"\#(self.word())"},"agent_id":{"value":"a"}}"#
            call.shutdown = try! MesosJSON.decode(SchedulerCall.Shutdown.self, from: Data(json.utf8))
        }
        if everything || call.type == .acknowledge {
            call.acknowledge = .init(agentId: self.agentID(), taskId: self.taskID(), uuid: self.string())
        }
        if everything || call.type == .reconcile {
            call.reconcile = .init(
                tasks: self.list(0...3) { .init(taskId: $0.taskID(), agentId: $0.maybe { $0.agentID() }) }
            )
            if self.chance(20) { call.reconcile?.tasks = nil }
        }
        if everything || call.type == .message {
            let json = #"{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"\#(self.word())"}"#
            call.message = try! MesosJSON.decode(SchedulerCall.Message.self, from: Data(json.utf8))
        }
        return call
    }

    mutating func schedulerEvent() -> SchedulerEvent {
        switch self.count(0...8) {
        case 0:
            return .subscribed(
                .init(
                    frameworkId: self.frameworkID(),
                    heartbeatIntervalSeconds: self.maybe { $0.double() },
                    masterInfo: self.maybe { $0.masterInfo() }
                )
            )
        case 1: return .offers(self.list(0...5) { $0.offer() })
        case 2: return .rescind(self.offerID())
        case 3: return .update(self.status())
        case 4:
            var event = SchedulerEvent.failure(agent: self.agentID())
            event.failure?.executorId = self.maybe { $0.executorID() }
            event.failure?.status = self.maybe { $0.count(-255...255) }
            if self.chance(20) { event.failure?.agentId = nil }
            return event
        case 5: return .error(self.string())
        case 6:
            var event = SchedulerEvent(type: .message)
            let json = #"{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"\#(self.word())"}"#
            event.message = try! MesosJSON.decode(SchedulerEvent.Message.self, from: Data(json.utf8))
            return event
        case 7:
            // Every field at once.
            var event = SchedulerEvent.update(self.status())
            event.offers = .init(offers: self.list(0...2) { $0.offer() })
            event.rescind = .init(offerId: self.offerID())
            event.error = .init(message: self.string())
            return event
        default: return .heartbeat
        }
    }
}
