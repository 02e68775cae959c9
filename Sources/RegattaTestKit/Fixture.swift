// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaModel

/// Valid default values that each test tweaks (after Nomad's `mock.Job()`).
public enum Fixture {
    /// Resources of an agent: `cpus`, `mem` in MB, `disk` in MB and a port range.
    public static func resources(
        cpus: Double = 4,
        memMB: Double = 8192,
        diskMB: Double = 10240,
        ports: ClosedRange<UInt64>? = 31000...32000
    ) -> Resources {
        var resources = Resources()
        try! resources.add(.scalar("cpus", cpus))
        try! resources.add(.scalar("mem", memMB))
        try! resources.add(.scalar("disk", diskMB))
        if let ports {
            try! resources.add(.ranges("ports", RangeSet([ValueRange(begin: ports.lowerBound, end: ports.upperBound)])))
        }
        return resources
    }

    /// An agent's SUBSCRIBE payload.
    public static func agentSubscribe(
        hostname: String = "agent-1",
        id: AgentID? = nil,
        cpus: Double = 4,
        memMB: Double = 8192,
        attributes: [Attribute] = [],
        tasks: [AgentTask] = []
    ) -> AgentCall.Subscribe {
        AgentCall.Subscribe(
            agentInfo: AgentInfo(
                hostname: hostname,
                port: 5051,
                resources: self.resources(cpus: cpus, memMB: memMB),
                attributes: attributes,
                id: id
            ),
            tasks: tasks
        )
    }

    /// A framework's FrameworkInfo.
    public static func framework(
        name: String = "test",
        id: FrameworkID? = nil,
        role: String = "*",
        failoverTimeout: Double? = nil,
        partitionAware: Bool = false
    ) -> FrameworkInfo {
        FrameworkInfo(
            user: "root",
            name: name,
            id: id,
            failoverTimeout: failoverTimeout,
            roles: [role],
            capabilities: partitionAware ? [.init(type: "PARTITION_AWARE")] : nil
        )
    }

    /// A command task using `resources`.
    public static func task(
        _ id: String,
        agent: AgentID,
        cpus: Double = 1,
        memMB: Double = 128,
        ports: [UInt64] = []
    ) -> TaskInfo {
        var resources = Resources()
        try! resources.add(.scalar("cpus", cpus))
        try! resources.add(.scalar("mem", memMB))
        if !ports.isEmpty { try! resources.add(.ranges("ports", RangeSet(values: ports))) }
        return TaskInfo(
            name: id,
            taskId: TaskID(id),
            agentId: agent,
            resources: resources,
            command: .shell("sleep 1000")
        )
    }

    /// An offer for `resources` on an agent.
    public static func offer(
        _ id: String = "o1",
        agent: String = "a1",
        hostname: String = "agent-1",
        framework: String = "f1",
        cpus: Double = 4,
        memMB: Double = 8192,
        ports: ClosedRange<UInt64>? = 31000...31100,
        attributes: [Attribute] = []
    ) -> Offer {
        Offer(
            id: OfferID(id),
            frameworkId: FrameworkID(framework),
            agentId: AgentID(agent),
            hostname: hostname,
            resources: self.resources(cpus: cpus, memMB: memMB, ports: ports).allocated(to: "*"),
            attributes: attributes,
            role: "*"
        )
    }

    /// An app with Marathon's defaults and a shell command.
    public static func app(
        id: String = "/web",
        instances: Int = 1,
        cpus: Double = 0.5,
        memMB: Double = 64,
        constraints: [[String]] = [],
        ports: Int = 1
    ) -> AppDefinition {
        var app = AppDefinition(id: id, cmd: "sleep 1000", cpus: cpus, mem: memMB, instances: instances)
        app.constraints = constraints
        app.portDefinitions = Array(repeating: PortDefinition(port: 0), count: ports)
        return app
    }
}
