// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A stateful driver of ``MasterState`` and its DRF allocator (`REGATTA_FUZZ_TARGET=master`).
///
/// The input is a program: each operation is one byte followed by the bytes it reads (past the end every byte is
/// zero). Operations are what the master's shell (`Master`) does on the wire's behalf — framework SUBSCRIBE,
/// ACCEPT, DECLINE, KILL, TEARDOWN, REVIVE/SUPPRESS, ACKNOWLEDGE/RECONCILE, stream ends, agent SUBSCRIBE (with, without,
/// or with someone else's `registration_token`, and with tasks reported that belong to other agents), UPDATE, PONG,
/// operator DRAIN/MARK_AGENT_GONE/DEACTIVATE/REACTIVATE, and the timers: `timerFired`, `tick`, `allocate` and `pingAgents` with
/// `now` jumping to hostile values (negative, `Int64.max` seconds and nanoseconds). Framework calls are written as
/// JSON and decoded with ``MesosJSON/decodeFast(_:from:)-([UInt8])`` as `MasterRoutes` does, so hostile numbers
/// (`failover_timeout` 1e300 or -1, `refuse_seconds`, negative kill grace periods, health-check seconds) take the
/// real path. The shell's own checks come first, as in `Master.subscribeAgent`.
///
/// - Important: Invariants after every operation: nothing traps; no agent is over-committed
///   (`total.contains(used + offered)`); every non-terminal task is on exactly one agent (its agent exists and lists
///   it, no other agent does) and every task an agent lists is a live task of that agent; every outstanding offer
///   is listed by its agent and its framework.
enum MasterStateFuzzer {
    struct FrameworkSlot {
        var id: FrameworkID?
        var stream: String?
    }

    struct AgentSlot {
        var id: AgentID?
        var connection: Int?
        var token: String?
        var resources: Resources?
    }

    struct Driver {
        var state: MasterState
        var now: Duration = .zero
        var frameworks = [FrameworkSlot](repeating: FrameworkSlot(), count: 3)
        var agents = [AgentSlot](repeating: AgentSlot(), count: 4)
        var counter = 0

        init() {
            var configuration = MasterConfiguration()
            configuration.offerTimeout = .seconds(30)
            configuration.maxCompletedFrameworks = 2
            configuration.maxCompletedTasksPerFramework = 3
            configuration.maxAgentPingTimeouts = 2
            configuration.weights = ["web": 2, "batch": 1e-300]
            self.state = MasterState(masterID: "m", configuration: configuration)
        }

        mutating func next() -> Int {
            self.counter += 1
            return self.counter
        }
    }

    static let roles = ["*", "web", "batch"]
    static let states: [TaskState] = [
        .running, .finished, .failed, .killed, .lost, .staging, .unreachable, .goneByOperator, .killing, .error,
    ]
    static let hostileNow: [Duration] = [
        .zero, .seconds(-1), .seconds(Int64.max), .seconds(Int64.min), .nanoseconds(Int64.max),
        .nanoseconds(Int64.min), .seconds(1_000_000_000_000), .seconds(9_223_372_036),
    ]

    static func run(_ bytes: UnsafeRawBufferPointer) {
        _ = self.selfTest
        var input = FuzzBytes(bytes)
        var driver = Driver()
        var steps = 0
        while !input.isAtEnd, steps < 64 {
            steps += 1
            let op = input.choose(17)
            self.step(op, &driver, &input)
            if self.tracing { self.trace(op, driver) }
            self.checkInvariants(driver.state, after: op)
        }
    }

    // MARK: - Operations

    private static func step(_ op: Int, _ d: inout Driver, _ input: inout FuzzBytes) {
        switch op {
        case 0: self.subscribeFramework(&d, &input)
        case 1:
            let slot = input.choose(3)
            guard let id = d.frameworks[slot].id, let stream = d.frameworks[slot].stream else { return }
            _ = d.state.frameworkDisconnected(id, streamID: stream, now: d.now)
            d.frameworks[slot].stream = nil
        case 2: self.accept(&d, &input)
        case 3:
            let slot = input.choose(3)
            let offers = self.offerIDs(of: slot, d, &input)
            let filters = input.bool() ? #","filters":{"refuse_seconds":\#(input.pick(HostileNumbers.seconds))}"# : ""
            self.call(slot, #""type":"DECLINE","decline":{"offer_ids":[\#(offers)]\#(filters)}"#, &d)
        case 4:
            let slot = input.choose(3)
            let grace =
                input.bool()
                ? #","kill_policy":{"grace_period":{"nanoseconds":\#(input.pick(HostileNumbers.nanoseconds))}}"# : ""
            let agent = input.bool() ? #","agent_id":{"value":"\#(self.agentID(&d, &input))"}"# : ""
            self.call(slot, #""type":"KILL","kill":{"task_id":{"value":"t\#(input.choose(5))"}\#(agent)\#(grace)}"#, &d)
        case 5: self.call(input.choose(3), #""type":"TEARDOWN""#, &d)
        case 6: self.call(input.choose(3), input.bool() ? #""type":"REVIVE""# : #""type":"SUPPRESS""#, &d)
        case 7:
            let slot = input.choose(3)
            let task = "t\(input.choose(5))"
            if input.bool() {
                let agent = self.agentID(&d, &input)
                self.call(
                    slot,
                    #""type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"\#(agent)"},"task_id":{"value":"\#(task)"},"uuid":"\#(input.pick(["", "u1", "dTE="]))"}"#,
                    &d
                )
            } else {
                let tasks =
                    input.bool()
                    ? "" : #"{"task_id":{"value":"\#(task)"},"agent_id":{"value":"\#(self.agentID(&d, &input))"}}"#
                self.call(slot, #""type":"RECONCILE","reconcile":{"tasks":[\#(tasks)]}"#, &d)
            }
        case 8: self.subscribeAgent(&d, &input)
        case 9: self.update(&d, &input)
        case 10:
            let slot = input.choose(4)
            guard let id = d.agents[slot].id ?? (input.bool() ? AgentID("m-S1") : nil) else { return }
            try? d.state.agentPong(id, token: self.token(&d, slot, &input))
        case 11:
            let slot = input.choose(4)
            guard let id = d.agents[slot].id, let connection = d.agents[slot].connection else { return }
            _ = d.state.agentDisconnected(id, connection: connection, now: d.now)
            d.agents[slot].connection = nil
        case 12:
            let id = AgentID(self.agentID(&d, &input))
            switch input.choose(4) {
            case 0: _ = try? d.state.markAgentGone(id, now: d.now)
            case 1: _ = try? d.state.drainAgent(id, markGone: input.bool(), now: d.now)
            case 2: _ = try? d.state.deactivateAgent(id)
            default: try? d.state.reactivateAgent(id)
            }
        case 13:
            self.advance(&d, &input)
            if input.bool() {
                _ = d.state.timerFired(now: d.now)
            } else {
                _ = d.state.tick(now: d.now)
                _ = d.state.expireRecoveredAgents(now: d.now)
            }
        case 14:
            self.advance(&d, &input)
            _ = d.state.allocate(now: d.now)
        case 15:
            self.advance(&d, &input)
            _ = d.state.pingAgents(now: d.now)
        default:
            // The normal rhythm, so that offers exist for ACCEPT and DECLINE.
            d.now += .seconds(1)
            _ = d.state.allocate(now: d.now)
        }
    }

    private static func advance(_ d: inout Driver, _ input: inout FuzzBytes) {
        let byte = input.byte()
        if byte & 0x80 != 0 {
            d.now = self.hostileNow[Int(byte & 0x7F) % self.hostileNow.count]
        } else if d.now < .seconds(1_000_000_000_000) {
            d.now += .seconds(Int(byte))
        }
    }

    private static func subscribeFramework(_ d: inout Driver, _ input: inout FuzzBytes) {
        let slot = input.choose(3)
        var fields = #""user":"u","name":"f\#(slot)","roles":["\#(input.pick(self.roles))"]"#
        if input.bool() { fields += #","failover_timeout":\#(input.pick(HostileNumbers.seconds))"# }
        if input.bool() { fields += #","capabilities":[{"type":"PARTITION_AWARE"},{"type":"MULTI_ROLE"}]"# }
        switch input.choose(4) {
        case 0: if let id = d.frameworks[slot].id { fields += #","id":{"value":"\#(id.value)"}"# }
        case 1: fields += #","id":{"value":"m-0001"}"#
        case 2: fields += #","id":{"value":""}"#
        default: break
        }
        guard let info = self.decode(FrameworkInfo.self, "{\(fields)}") else { return }
        let stream = "s\(d.next())"
        guard
            let (id, _) = try? d.state.subscribe(
                framework: info,
                streamID: stream,
                heartbeat: .seconds(15),
                masterInfo: nil,
                now: d.now
            )
        else { return }
        for index in d.frameworks.indices where d.frameworks[index].id == id { d.frameworks[index].stream = nil }
        d.frameworks[slot] = FrameworkSlot(id: id, stream: stream)
    }

    /// Sends a non-SUBSCRIBE call as the framework in `slot` on its current stream, through `authorize`.
    private static func call(_ slot: Int, _ body: String, _ d: inout Driver) {
        guard let id = d.frameworks[slot].id else { return }
        guard let call = self.decode(SchedulerCall.self, #"{"framework_id":{"value":"\#(id.value)"},\#(body)}"#)
        else { return }
        guard let authorized = try? d.state.authorize(call.frameworkId, streamID: d.frameworks[slot].stream) else {
            return
        }
        _ = try? d.state.handle(call, from: authorized, now: d.now)
    }

    private static func offerIDs(of slot: Int, _ d: Driver, _ input: inout FuzzBytes) -> String {
        let owned = d.frameworks[slot].id.flatMap { d.state.frameworks[$0]?.offers.sorted() } ?? []
        let all = d.state.offers.keys.sorted()
        var ids: [String] = []
        for _ in 0..<(input.choose(3) + 1) {
            switch input.choose(4) {
            case 0, 1: if !owned.isEmpty { ids.append(owned[input.choose(owned.count)].value) }
            case 2: if !all.isEmpty { ids.append(all[input.choose(all.count)].value) }
            default: ids.append("m-O\(input.choose(8))")
            }
        }
        return ids.map { #"{"value":"\#($0)"}"# }.joined(separator: ",")
    }

    private static func agentID(_ d: inout Driver, _ input: inout FuzzBytes) -> String {
        let slot = input.choose(5)
        return slot < 4 ? (d.agents[slot].id?.value ?? "m-S\(slot + 1)") : "m-S9"
    }

    private static func accept(_ d: inout Driver, _ input: inout FuzzBytes) {
        let slot = input.choose(3)
        let offers = self.offerIDs(of: slot, d, &input)
        let offerAgent = d.frameworks[slot].id.flatMap { id in
            d.state.frameworks[id]?.offers.sorted().first.flatMap { d.state.offers[$0]?.offer.agentId.value }
        }
        var tasks: [String] = []
        for _ in 0..<input.choose(4) {
            let agent = input.bool() ? (offerAgent ?? "m-S1") : self.agentID(&d, &input)
            var resources = [
                #"{"name":"cpus","type":"SCALAR","scalar":{"value":\#(input.pick(HostileNumbers.amounts))}}"#,
                #"{"name":"mem","type":"SCALAR","scalar":{"value":\#(input.pick(HostileNumbers.amounts))}}"#,
            ]
            if input.bool() {
                let port = 31000 + input.choose(4)
                resources.append(
                    #"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":\#(port),"end":\#(port)}]}}"#
                )
            }
            if input.bool() {
                resources.append(#"{"name":"cpus","type":"SCALAR","role":"web","scalar":{"value":0.1}}"#)
            }
            var task =
                #"{"name":"n","task_id":{"value":"t\#(input.choose(5))"},"agent_id":{"value":"\#(agent)"},"resources":[\#(resources.joined(separator: ","))]"#
            if input.choose(8) != 0 { task += #","command":{"shell":true,"value":"sleep 1"}"# }
            if input.bool() {
                task += #","kill_policy":{"grace_period":{"nanoseconds":\#(input.pick(HostileNumbers.nanoseconds))}}"#
            }
            if input.bool() {
                let field = input.pick(["delay_seconds", "interval_seconds", "timeout_seconds", "grace_period_seconds"])
                task +=
                    #","health_check":{"type":"COMMAND","command":{"shell":true,"value":"true"},"\#(field)":\#(input.pick(HostileNumbers.seconds))}"#
            }
            tasks.append(task + "}")
        }
        let filters = input.bool() ? #","filters":{"refuse_seconds":\#(input.pick(HostileNumbers.seconds))}"# : ""
        let operation =
            input.bool()
            ? #"{"type":"LAUNCH","launch":{"task_infos":[\#(tasks.joined(separator: ","))]}}"#
            : #"{"type":"LAUNCH_GROUP","launch_group":{"executor":{"executor_id":{"value":"e"}},"task_group":{"tasks":[\#(tasks.joined(separator: ","))]}}}"#
        self.call(
            slot,
            #""type":"ACCEPT","accept":{"offer_ids":[\#(offers)],"operations":[\#(operation)]\#(filters)}"#,
            &d
        )
    }

    private static func token(_ d: inout Driver, _ slot: Int, _ input: inout FuzzBytes) -> String? {
        switch input.choose(4) {
        case 0, 1: d.agents[slot].token
        case 2: d.agents[(slot + 1) % d.agents.count].token ?? "k0"
        default: nil
        }
    }

    private static func subscribeAgent(_ d: inout Driver, _ input: inout FuzzBytes) {
        let slot = input.choose(4)
        var id: AgentID?
        switch input.choose(4) {
        case 0: id = d.agents[slot].id
        case 1: id = d.agents[input.choose(4)].id
        case 2: id = AgentID("m-S\(input.choose(6))")
        default: id = nil
        }
        let presented = self.token(&d, slot, &input)
        if d.agents[slot].resources == nil {
            // A baseline that the tiny tasks an agent reports fit in: an agent reporting tasks beyond its own total
            // is malformed input the master takes as the agent's word, not an over-commit by the master.
            var resources = (try? Resources([.scalar("cpus", 1), .scalar("mem", 1024)])) ?? Resources()
            for (name, amount) in [
                ("cpus", input.pick(HostileNumbers.amounts)), ("mem", input.pick(HostileNumbers.amounts)),
            ] {
                try? resources.add(.scalar(name, max(0, Double(amount) ?? 0)))
            }
            try? resources.add(.scalar("cpus", 1, role: "web"))
            try? resources.add(
                .ranges("ports", RangeSet([ValueRange(begin: 31000, end: 31000 + UInt64(input.choose(4)))]))
            )
            d.agents[slot].resources = resources
        }
        var reported: [AgentTask] = []
        for _ in 0..<input.choose(3) {
            let keys = d.state.tasks.keys.sorted { ($0.frameworkID, $0.taskID) < ($1.frameworkID, $1.taskID) }
            let state = input.pick(self.states)
            if input.bool(), !keys.isEmpty, let task = d.state.tasks[keys[input.choose(keys.count)]] {
                reported.append(AgentTask(frameworkId: task.frameworkID, task: task.info, state: state))
            } else {
                let framework = d.frameworks[input.choose(3)].id ?? FrameworkID("m-0001")
                let task = TaskInfo(
                    name: "r",
                    taskId: TaskID("t\(input.choose(5))"),
                    agentId: id ?? AgentID("m-S1"),
                    resources: (try? Resources([.scalar("cpus", 0.01)])) ?? Resources(),
                    command: .shell("sleep 1")
                )
                reported.append(AgentTask(frameworkId: framework, task: task, state: state))
            }
        }
        if FuzzCheck.isAllowed("master-foreign-task-report") {
            // Fuzz/Crashes/master/foreign-task-report.bin: a SUBSCRIBE that reports another agent's task as
            // finished ends it on the wrong agent. Tolerated: such reports are not made.
            reported.removeAll { entry in
                let existing = d.state.tasks[TaskKey(entry.frameworkId, entry.task.taskId)]
                return existing.map { $0.agentID != id } ?? false
            }
        }
        let subscribe = AgentCall.Subscribe(
            agentInfo: AgentInfo(
                hostname: "h\(slot)",
                port: 5051,
                resources: d.agents[slot].resources ?? Resources(),
                id: id
            ),
            tasks: reported
        )
        // Master.subscribeAgent's checks, in its order.
        if d.state.isGone(id) { return }
        if let id, !id.value.isEmpty {
            guard (try? d.state.checkAgentSubscription(id, presentedToken: presented)) != nil else { return }
        }
        var call = subscribe
        if call.agentInfo.id.map({ $0.value.isEmpty }) ?? true {
            let (assigned, _) = d.state.agentIDForRegistration(of: call.agentInfo)
            call.agentInfo.id = assigned
        }
        let connection = d.next()
        let token = "k\(connection)"
        guard
            let (assigned, _) = try? d.state.subscribeAgent(
                call,
                connection: connection,
                pingInterval: .seconds(15),
                masterInfo: nil,
                presentedToken: presented,
                newToken: token,
                now: d.now
            )
        else { return }
        for index in d.agents.indices where d.agents[index].id == assigned {
            d.agents[index].connection = nil
            d.agents[index].token = nil
        }
        d.agents[slot].id = assigned
        d.agents[slot].connection = connection
        d.agents[slot].token = token
    }

    private static func update(_ d: inout Driver, _ input: inout FuzzBytes) {
        let slot = input.choose(4)
        guard let id = d.agents[slot].id else { return }
        let keys = d.state.tasks.keys.sorted { ($0.frameworkID, $0.taskID) < ($1.frameworkID, $1.taskID) }
        let key: TaskKey
        if input.bool(), !keys.isEmpty {
            key = keys[input.choose(keys.count)]
        } else {
            key = TaskKey(d.frameworks[input.choose(3)].id ?? FrameworkID("m-0001"), TaskID("t\(input.choose(5))"))
        }
        let status = TaskStatus(
            taskId: key.taskID,
            state: input.pick(self.states),
            source: .executor,
            uuid: input.bool() ? "dTE=" : nil
        )
        let update = AgentCall.Update(frameworkId: key.frameworkID, status: status)
        _ = try? d.state.agentUpdate(update, from: id, token: self.token(&d, slot, &input), now: d.now)
    }

    // MARK: - Tracing

    static let tracing = ProcessInfo.processInfo.environment["REGATTA_FUZZ_TRACE"] != nil
    static let operationNames = [
        "framework SUBSCRIBE", "framework stream ended", "ACCEPT", "DECLINE", "KILL", "TEARDOWN", "REVIVE/SUPPRESS",
        "ACKNOWLEDGE/RECONCILE", "agent SUBSCRIBE", "agent UPDATE", "agent PONG", "agent stream ended",
        "operator agent action", "tick", "allocate", "pingAgents", "allocate (+1 s)",
    ]

    /// With `REGATTA_FUZZ_TRACE` set, prints each operation and the state after it (to read a reproducer).
    private static func trace(_ op: Int, _ d: Driver) {
        var lines = ["#\(op) \(self.operationNames[op]) now=\(d.now)"]
        for agent in d.state.agents.values.sorted(by: { $0.id < $1.id }) {
            let tasks = agent.tasks.map { "\($0.frameworkID)/\($0.taskID)" }.sorted()
            lines.append(
                "  agent \(agent.id) conn=\(agent.connection.map(String.init) ?? "-") unreachable=\(agent.unreachable) total=\(agent.total) used=\(agent.used) offered=\(agent.offered) tasks=\(tasks)"
            )
        }
        for (key, task) in d.state.tasks.sorted(by: {
            ($0.key.frameworkID, $0.key.taskID) < ($1.key.frameworkID, $1.key.taskID)
        }) {
            lines.append("  task \(key.frameworkID)/\(key.taskID) \(task.state) on \(task.agentID)")
        }
        for framework in d.state.frameworks.values.sorted(by: { $0.id < $1.id }) {
            lines.append(
                "  framework \(framework.id) stream=\(framework.streamID ?? "-") offers=\(framework.offers.count)"
            )
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    // MARK: - Invariants

    private static func checkInvariants(_ state: MasterState, after op: Int) {
        for agent in state.agents.values {
            FuzzCheck.require(
                agent.total.contains(agent.used + agent.offered),
                "after op \(op): agent \(agent.id) is over-committed: total \(agent.total), used \(agent.used), offered \(agent.offered)"
            )
            for key in agent.tasks {
                let task = state.tasks[key]
                FuzzCheck.require(
                    task != nil && !task!.state.isTerminal && task!.agentID == agent.id,
                    "after op \(op): agent \(agent.id) lists task \(key.taskID) of \(key.frameworkID), which is \(task.map { "\($0.state) on \($0.agentID)" } ?? "unknown")"
                )
            }
            for offer in agent.offers {
                FuzzCheck.require(
                    state.offers[offer]?.offer.agentId == agent.id,
                    "after op \(op): agent \(agent.id) lists stale offer \(offer)"
                )
            }
        }
        for (key, task) in state.tasks where !task.state.isTerminal {
            let holders = state.agents.values.filter { $0.tasks.contains(key) }.map(\.id)
            FuzzCheck.require(
                holders == [task.agentID],
                "after op \(op): live task \(key.taskID) of \(key.frameworkID) (\(task.state)) is on \(task.agentID) but listed by \(holders)"
            )
        }
        for (id, record) in state.offers {
            FuzzCheck.require(
                state.agents[record.offer.agentId]?.offers.contains(id) == true,
                "after op \(op): offer \(id) is not listed by agent \(record.offer.agentId)"
            )
            FuzzCheck.require(
                state.frameworks[record.offer.frameworkId]?.offers.contains(id) == true,
                "after op \(op): offer \(id) is not listed by framework \(record.offer.frameworkId)"
            )
        }
    }

    // MARK: - Wire

    private static func decode<T: MesosJSONDecodable & Decodable>(_ type: T.Type, _ json: String) -> T? {
        try? MesosJSON.decodeFast(type, from: Array(json.utf8))
    }

    /// The JSON templates must decode, or the driver would silently do nothing.
    static let selfTest: Void = {
        let task =
            #"{"name":"n","task_id":{"value":"t0"},"agent_id":{"value":"m-S1"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"shell":true,"value":"sleep 1"},"kill_policy":{"grace_period":{"nanoseconds":-1}},"health_check":{"type":"COMMAND","command":{"shell":true,"value":"true"},"interval_seconds":1e300}}"#
        let documents: [(String, Bool)] = [
            (
                #"{"user":"u","name":"f","roles":["web"],"failover_timeout":1e300,"capabilities":[{"type":"PARTITION_AWARE"}],"id":{"value":"x"}}"#,
                false
            ),
            (
                #"{"framework_id":{"value":"f"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"o"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[\#(task)]}}],"filters":{"refuse_seconds":-1}}}"#,
                true
            ),
            (
                #"{"framework_id":{"value":"f"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"o"}],"operations":[{"type":"LAUNCH_GROUP","launch_group":{"executor":{"executor_id":{"value":"e"}},"task_group":{"tasks":[\#(task)]}}}]}}"#,
                true
            ),
            (
                #"{"framework_id":{"value":"f"},"type":"KILL","kill":{"task_id":{"value":"t"},"agent_id":{"value":"a"},"kill_policy":{"grace_period":{"nanoseconds":-9223372036854775808}}}}"#,
                true
            ),
            (
                #"{"framework_id":{"value":"f"},"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"dTE="}}"#,
                true
            ),
            (#"{"framework_id":{"value":"f"},"type":"RECONCILE","reconcile":{"tasks":[]}}"#, true),
        ]
        for (json, isCall) in documents {
            let ok =
                isCall
                ? MasterStateFuzzer.decode(SchedulerCall.self, json) != nil
                : MasterStateFuzzer.decode(FrameworkInfo.self, json) != nil
            FuzzCheck.require(ok, "the driver's template does not decode: \(json)")
        }
        let accept = MasterStateFuzzer.decode(SchedulerCall.self, documents[1].0)
        FuzzCheck.require(
            accept?.accept?.operations?.first?.launch?.taskInfos.first?.healthCheck?.intervalSeconds == 1e300
                && accept?.accept?.operations?.first?.launch?.taskInfos.first?.killPolicy?.gracePeriod?.nanoseconds
                    == -1,
            "the driver's task template loses fields: \(String(describing: accept))"
        )
    }()
}
