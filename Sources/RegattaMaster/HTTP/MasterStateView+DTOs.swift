// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The shapes of the master's v0 JSON documents (`/master/state`, `/master/frameworks`, `/master/slaves`, …), as
/// Mesos names their fields, and how ``MasterJSONWriter`` writes each.
extension MasterStateView {
    struct TaskJSON: Encodable {
        var id: String
        var name: String
        var framework_id: String
        var executor_id: String
        var slave_id: String
        var state: String
        var resources: FlatResources
        var role: String
        var statuses: [StatusJSON]
        var labels: [Labels.Label]?
    }
    struct StatusJSON: Encodable {
        var state: String
        var timestamp: Double
        var healthy: Bool?
    }
    struct FrameworkJSON: Encodable {
        var id: String
        var name: String
        var pid: String?
        var hostname: String
        var user: String
        var role: String
        var roles: [String]
        var principal: String?
        var webui_url: String?
        var active: Bool
        var connected: Bool
        var recovered: Bool
        var checkpoint: Bool
        var capabilities: [String]
        var failover_timeout: Double
        var registered_time: Double
        var unregistered_time: Double
        var resources: [String: FlatResourceValue]
        var used_resources: [String: FlatResourceValue]
        var offered_resources: [String: FlatResourceValue]
        var tasks: FrameworkTaskListJSON
        var unreachable_tasks: FrameworkTaskListJSON
        var completed_tasks: [TaskJSON]
        var offers: [OfferJSON]
        var executors: [String]
    }
    struct OfferJSON: Encodable {
        var id: String
        var framework_id: String
        var slave_id: String
        var resources: [String: FlatResourceValue]
    }
    struct AgentJSON: Encodable {
        var id: String
        var hostname: String
        var port: Int
        var pid: String
        var attributes: [String: FlatResourceValue]
        var registered_time: Double
        var reregistered_time: Double?
        var resources: [String: FlatResourceValue]
        var used_resources: [String: FlatResourceValue]
        var offered_resources: [String: FlatResourceValue]
        var reserved_resources: [String: [String: FlatResourceValue]]
        var unreserved_resources: [String: FlatResourceValue]
        var active: Bool
        var deactivated: Bool
        var version: String
        var capabilities: [String]
    }
    /// An agent from the registry that has not re-registered with this master since it was elected (Mesos models
    /// its `SlaveInfo`: id, hostname, port and attributes).
    struct RecoveredAgentJSON: Encodable {
        var id: String
        var hostname: String
        var port: Int
        var attributes: [String: FlatResourceValue]
    }
    struct StateJSON: Encodable {
        var version: String
        var build_date: String
        var build_time: Double
        var build_user: String
        var start_time: Double
        /// When this master was elected; absent while it is not (as Mesos).
        var elected_time: Double?
        var id: String
        var pid: String
        var hostname: String
        var capabilities: [String]
        var activated_slaves: Int
        var deactivated_slaves: Int
        var unreachable_slaves: Int
        var leader: String
        var leader_info: MasterInfo
        var cluster: String?
        var flags: [String: String]
        var slaves: [AgentJSON]
        var recovered_slaves: [RecoveredAgentJSON]
        var frameworks: [FrameworkJSON]
        var completed_frameworks: [FrameworkJSON]
        var orphan_tasks: [TaskJSON]
        var unregistered_frameworks: [String]
    }
}

extension MasterStateView.StatusJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        var first = true
        if let healthy = self.healthy {
            writer.key("healthy", first: true)
            writer.bool(healthy)
            first = false
        }
        writer.key("state", first: first)
        writer.string(self.state)
        writer.key("timestamp")
        try writer.number(self.timestamp)
        writer.raw("}")
    }
}

extension MasterStateView.TaskJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("executor_id", first: true)
        writer.string(self.executor_id)
        writer.key("framework_id")
        writer.string(self.framework_id)
        writer.key("id")
        writer.string(self.id)
        if let labels = self.labels {
            writer.key("labels")
            writer.labels(labels)
        }
        writer.key("name")
        writer.string(self.name)
        writer.key("resources")
        writer.json(self.resources.json)
        writer.key("role")
        writer.string(self.role)
        writer.key("slave_id")
        writer.string(self.slave_id)
        writer.key("state")
        writer.string(self.state)
        writer.key("statuses")
        try writer.array(self.statuses)
        writer.raw("}")
    }
}

extension MasterStateView.OfferJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("framework_id", first: true)
        writer.string(self.framework_id)
        writer.key("id")
        writer.string(self.id)
        writer.key("resources")
        try writer.resources(self.resources)
        writer.key("slave_id")
        writer.string(self.slave_id)
        writer.raw("}")
    }
}

extension MasterStateView.FrameworkJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("active", first: true)
        writer.bool(self.active)
        writer.key("capabilities")
        writer.strings(self.capabilities)
        writer.key("checkpoint")
        writer.bool(self.checkpoint)
        writer.key("completed_tasks")
        try writer.array(self.completed_tasks)
        writer.key("connected")
        writer.bool(self.connected)
        writer.key("executors")
        writer.strings(self.executors)
        writer.key("failover_timeout")
        try writer.number(self.failover_timeout)
        writer.key("hostname")
        writer.string(self.hostname)
        writer.key("id")
        writer.string(self.id)
        writer.key("name")
        writer.string(self.name)
        writer.key("offered_resources")
        try writer.resources(self.offered_resources)
        writer.key("offers")
        try writer.array(self.offers)
        if let pid = self.pid {
            writer.key("pid")
            writer.string(pid)
        }
        if let principal = self.principal {
            writer.key("principal")
            writer.string(principal)
        }
        writer.key("recovered")
        writer.bool(self.recovered)
        writer.key("registered_time")
        try writer.number(self.registered_time)
        writer.key("resources")
        try writer.resources(self.resources)
        writer.key("role")
        writer.string(self.role)
        writer.key("roles")
        writer.strings(self.roles)
        writer.key("tasks")
        try self.tasks.write(to: &writer)
        writer.key("unreachable_tasks")
        try self.unreachable_tasks.write(to: &writer)
        writer.key("unregistered_time")
        try writer.number(self.unregistered_time)
        writer.key("used_resources")
        try writer.resources(self.used_resources)
        writer.key("user")
        writer.string(self.user)
        if let webuiURL = self.webui_url {
            writer.key("webui_url")
            writer.string(webuiURL)
        }
        writer.raw("}")
    }
}

extension MasterStateView.AgentJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("active", first: true)
        writer.bool(self.active)
        writer.key("attributes")
        try writer.resources(self.attributes)
        writer.key("capabilities")
        writer.strings(self.capabilities)
        writer.key("deactivated")
        writer.bool(self.deactivated)
        writer.key("hostname")
        writer.string(self.hostname)
        writer.key("id")
        writer.string(self.id)
        writer.key("offered_resources")
        try writer.resources(self.offered_resources)
        writer.key("pid")
        writer.string(self.pid)
        writer.key("port")
        writer.number(self.port)
        writer.key("registered_time")
        try writer.number(self.registered_time)
        if let reregistered = self.reregistered_time {
            writer.key("reregistered_time")
            try writer.number(reregistered)
        }
        writer.key("reserved_resources")
        try writer.object(self.reserved_resources) { writer, value in try writer.resources(value) }
        writer.key("resources")
        try writer.resources(self.resources)
        writer.key("unreserved_resources")
        try writer.resources(self.unreserved_resources)
        writer.key("used_resources")
        try writer.resources(self.used_resources)
        writer.key("version")
        writer.string(self.version)
        writer.raw("}")
    }
}

extension MasterStateView.RecoveredAgentJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("attributes", first: true)
        try writer.resources(self.attributes)
        writer.key("hostname")
        writer.string(self.hostname)
        writer.key("id")
        writer.string(self.id)
        writer.key("port")
        writer.number(self.port)
        writer.raw("}")
    }
}

extension MasterStateView.StateJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("activated_slaves", first: true)
        writer.number(self.activated_slaves)
        writer.key("build_date")
        writer.string(self.build_date)
        writer.key("build_time")
        try writer.number(self.build_time)
        writer.key("build_user")
        writer.string(self.build_user)
        writer.key("capabilities")
        writer.strings(self.capabilities)
        if let cluster = self.cluster {
            writer.key("cluster")
            writer.string(cluster)
        }
        writer.key("completed_frameworks")
        try writer.array(self.completed_frameworks)
        writer.key("deactivated_slaves")
        writer.number(self.deactivated_slaves)
        if let elected = self.elected_time {
            writer.key("elected_time")
            try writer.number(elected)
        }
        writer.key("flags")
        writer.object(self.flags) { writer, value in writer.string(value) }
        writer.key("frameworks")
        try writer.array(self.frameworks)
        writer.key("hostname")
        writer.string(self.hostname)
        writer.key("id")
        writer.string(self.id)
        writer.key("leader")
        writer.string(self.leader)
        writer.key("leader_info")
        try writer.encodable(self.leader_info)
        writer.key("orphan_tasks")
        try writer.array(self.orphan_tasks)
        writer.key("pid")
        writer.string(self.pid)
        writer.key("recovered_slaves")
        try writer.array(self.recovered_slaves)
        writer.key("slaves")
        try writer.array(self.slaves)
        writer.key("start_time")
        try writer.number(self.start_time)
        writer.key("unreachable_slaves")
        writer.number(self.unreachable_slaves)
        writer.key("unregistered_frameworks")
        writer.strings(self.unregistered_frameworks)
        writer.key("version")
        writer.string(self.version)
        writer.raw("}")
    }
}
