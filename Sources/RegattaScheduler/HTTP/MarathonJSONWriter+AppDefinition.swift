// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The parts of an app definition and of a task, as `MarathonJSON.object` (their `Codable` form) and
/// `MarathonJSON.data` (keys sorted) write them: optional fields the synthesized `Encodable` skips when `nil` are
/// skipped here too, and numbers that went through `JSONEncoder` are written as ``encodedNumber(_:)``.
extension MarathonJSONWriter {
    /// Writes `"key":` for an optional field when `value` is present, then the value.
    private mutating func optional<Value>(
        _ key: StaticString, _ value: Value?, first: inout Bool, _ write: (inout MarathonJSONWriter, Value) -> Void
    ) {
        guard let value else { return }
        self.key(key, first: first)
        first = false
        write(&self, value)
    }

    mutating func portDefinition(_ definition: PortDefinition) {
        self.character("{")
        var first = true
        self.optional("labels", definition.labels, first: &first) { $0.object($1) }
        self.optional("name", definition.name, first: &first) { $0.string($1) }
        self.key("port", first: first)
        self.number(definition.port)
        self.key("protocol")
        self.string(definition.protocol)
        self.character("}")
    }

    mutating func container(_ container: AppContainer) {
        self.character("{")
        var first = true
        self.optional("docker", container.docker, first: &first) { $0.docker($1) }
        self.optional("portMappings", container.portMappings, first: &first) { writer, mappings in
            writer.array(mappings) { $0.portMapping($1) }
        }
        self.optional("type", container.type, first: &first) { $0.string($1) }
        self.optional("volumes", container.volumes, first: &first) { writer, volumes in
            writer.array(volumes) { writer, volume in
                writer.raw("{\"containerPath\":")
                writer.string(volume.containerPath)
                var first = false
                writer.optional("hostPath", volume.hostPath, first: &first) { $0.string($1) }
                writer.optional("mode", volume.mode, first: &first) { $0.string($1) }
                writer.character("}")
            }
        }
        self.character("}")
    }

    private mutating func docker(_ docker: AppContainer.Docker) {
        self.character("{")
        var first = true
        self.optional("forcePullImage", docker.forcePullImage, first: &first) { $0.bool($1) }
        self.key("image", first: first)
        first = false
        self.string(docker.image)
        self.optional("network", docker.network, first: &first) { $0.string($1) }
        self.optional("parameters", docker.parameters, first: &first) { writer, parameters in
            writer.array(parameters) { writer, parameter in
                writer.raw("{\"key\":")
                writer.string(parameter.key)
                writer.raw(",\"value\":")
                writer.string(parameter.value)
                writer.character("}")
            }
        }
        self.optional("portMappings", docker.portMappings, first: &first) { writer, mappings in
            writer.array(mappings) { $0.portMapping($1) }
        }
        self.optional("privileged", docker.privileged, first: &first) { $0.bool($1) }
        self.character("}")
    }

    private mutating func portMapping(_ mapping: AppContainer.PortMapping) {
        self.character("{")
        var first = true
        self.optional("containerPort", mapping.containerPort, first: &first) { $0.number($1) }
        self.optional("hostPort", mapping.hostPort, first: &first) { $0.number($1) }
        self.optional("labels", mapping.labels, first: &first) { $0.object($1) }
        self.optional("name", mapping.name, first: &first) { $0.string($1) }
        self.optional("protocol", mapping.protocol, first: &first) { $0.string($1) }
        self.optional("servicePort", mapping.servicePort, first: &first) { $0.number($1) }
        self.character("}")
    }

    mutating func healthCheck(_ check: AppHealthCheck) {
        self.character("{")
        var first = true
        self.optional("command", check.command, first: &first) { writer, command in
            writer.raw("{\"value\":")
            writer.string(command.value)
            writer.character("}")
        }
        self.key("delaySeconds", first: first)
        self.encodedNumber(check.delaySeconds)
        self.key("gracePeriodSeconds")
        self.encodedNumber(check.gracePeriodSeconds)
        self.key("ignoreHttp1xx")
        self.bool(check.ignoreHttp1xx)
        self.key("intervalSeconds")
        self.encodedNumber(check.intervalSeconds)
        self.key("maxConsecutiveFailures")
        self.number(check.maxConsecutiveFailures)
        first = false
        self.optional("path", check.path, first: &first) { $0.string($1) }
        self.optional("port", check.port, first: &first) { $0.number($1) }
        self.optional("portIndex", check.portIndex, first: &first) { $0.number($1) }
        self.key("protocol")
        self.string(check.protocol)
        self.key("timeoutSeconds")
        self.encodedNumber(check.timeoutSeconds)
        self.character("}")
    }

    mutating func fetch(_ fetch: FetchURI) {
        self.character("{")
        var first = true
        self.optional("cache", fetch.cache, first: &first) { $0.bool($1) }
        self.optional("destPath", fetch.destPath, first: &first) { $0.string($1) }
        self.optional("executable", fetch.executable, first: &first) { $0.bool($1) }
        self.optional("extract", fetch.extract, first: &first) { $0.bool($1) }
        self.key("uri", first: first)
        self.string(fetch.uri)
        self.character("}")
    }

    /// `"disabled"`, or `{expungeAfterSeconds, inactiveAfterSeconds}` (a missing value as `null`, as
    /// `UnreachableStrategy.encode(to:)` writes it).
    mutating func unreachableStrategy(_ strategy: UnreachableStrategy) {
        guard let inactive = strategy.inactiveAfterSeconds else {
            self.raw("\"disabled\"")
            return
        }
        self.raw("{\"expungeAfterSeconds\":")
        if let expunge = strategy.expungeAfterSeconds { self.encodedNumber(expunge) } else { self.raw("null") }
        self.raw(",\"inactiveAfterSeconds\":")
        self.encodedNumber(inactive)
        self.character("}")
    }

    mutating func taskFailure(_ failure: TaskFailure) {
        self.raw("{\"appId\":")
        self.string(failure.appId)
        self.raw(",\"host\":")
        self.string(failure.host)
        self.raw(",\"message\":")
        self.string(failure.message)
        if let slaveId = failure.slaveId {
            self.raw(",\"slaveId\":")
            self.string(slaveId)
        }
        self.raw(",\"state\":")
        self.string(failure.state)
        self.raw(",\"taskId\":")
        self.string(failure.taskId)
        self.raw(",\"timestamp\":")
        self.string(failure.timestamp)
        self.raw(",\"version\":")
        self.string(failure.version)
        self.character("}")
    }

    mutating func healthCheckResult(_ result: HealthCheckResult) {
        self.raw("{\"alive\":")
        self.bool(result.alive)
        self.raw(",\"consecutiveFailures\":")
        self.number(result.consecutiveFailures)
        var first = false
        self.optional("firstSuccess", result.firstSuccess, first: &first) { $0.string($1) }
        self.key("instanceId")
        self.string(result.instanceId)
        self.optional("lastFailure", result.lastFailure, first: &first) { $0.string($1) }
        self.optional("lastFailureCause", result.lastFailureCause, first: &first) { $0.string($1) }
        self.optional("lastSuccess", result.lastSuccess, first: &first) { $0.string($1) }
        self.character("}")
    }
}
