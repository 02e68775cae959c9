// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The parts of an app definition and of a task, as their `Codable` form serialized with sorted keys writes them:
/// optional fields the synthesized `Encodable` skips when `nil` are skipped here too, and numbers that went through
/// `JSONEncoder` are written with ``writeEncodedNumber(_:)``.
extension JSONWriter {
    mutating func write(_ definition: PortDefinition) {
        self.beginObject()
        self.field("labels", ifPresent: definition.labels) { $0.writeSortedObject($1) }
        self.field("name", ifPresent: definition.name) { $0.write($1) }
        self.key("port")
        self.write(definition.port)
        self.key("protocol")
        self.write(definition.protocol)
        self.endObject()
    }

    mutating func write(_ container: AppContainer) {
        self.beginObject()
        self.field("docker", ifPresent: container.docker) { $0.write($1) }
        self.field("portMappings", ifPresent: container.portMappings) { writer, mappings in
            writer.writeArray(mappings) { $0.write($1) }
        }
        self.field("type", ifPresent: container.type) { $0.write($1) }
        self.field("volumes", ifPresent: container.volumes) { writer, volumes in
            writer.writeArray(volumes) { writer, volume in
                writer.beginObject()
                writer.key("containerPath")
                writer.write(volume.containerPath)
                writer.field("hostPath", ifPresent: volume.hostPath) { $0.write($1) }
                writer.field("mode", ifPresent: volume.mode) { $0.write($1) }
                writer.endObject()
            }
        }
        self.endObject()
    }

    private mutating func write(_ docker: AppContainer.Docker) {
        self.beginObject()
        self.field("forcePullImage", ifPresent: docker.forcePullImage) { $0.write($1) }
        self.key("image")
        self.write(docker.image)
        self.field("network", ifPresent: docker.network) { $0.write($1) }
        self.field("parameters", ifPresent: docker.parameters) { writer, parameters in
            writer.writeArray(parameters) { writer, parameter in
                writer.beginObject()
                writer.key("key")
                writer.write(parameter.key)
                writer.key("value")
                writer.write(parameter.value)
                writer.endObject()
            }
        }
        self.field("portMappings", ifPresent: docker.portMappings) { writer, mappings in
            writer.writeArray(mappings) { $0.write($1) }
        }
        self.field("privileged", ifPresent: docker.privileged) { $0.write($1) }
        self.endObject()
    }

    private mutating func write(_ mapping: AppContainer.PortMapping) {
        self.beginObject()
        self.field("containerPort", ifPresent: mapping.containerPort) { $0.write($1) }
        self.field("hostPort", ifPresent: mapping.hostPort) { $0.write($1) }
        self.field("labels", ifPresent: mapping.labels) { $0.writeSortedObject($1) }
        self.field("name", ifPresent: mapping.name) { $0.write($1) }
        self.field("protocol", ifPresent: mapping.protocol) { $0.write($1) }
        self.field("servicePort", ifPresent: mapping.servicePort) { $0.write($1) }
        self.endObject()
    }

    mutating func write(_ check: AppHealthCheck) {
        self.beginObject()
        self.field("command", ifPresent: check.command) { writer, command in
            writer.beginObject()
            writer.key("value")
            writer.write(command.value)
            writer.endObject()
        }
        self.key("delaySeconds")
        self.writeEncodedNumber(check.delaySeconds)
        self.key("gracePeriodSeconds")
        self.writeEncodedNumber(check.gracePeriodSeconds)
        self.key("ignoreHttp1xx")
        self.write(check.ignoreHttp1xx)
        self.key("intervalSeconds")
        self.writeEncodedNumber(check.intervalSeconds)
        self.key("maxConsecutiveFailures")
        self.write(check.maxConsecutiveFailures)
        self.field("path", ifPresent: check.path) { $0.write($1) }
        self.field("port", ifPresent: check.port) { $0.write($1) }
        self.field("portIndex", ifPresent: check.portIndex) { $0.write($1) }
        self.key("protocol")
        self.write(check.protocol)
        self.key("timeoutSeconds")
        self.writeEncodedNumber(check.timeoutSeconds)
        self.endObject()
    }

    mutating func write(_ fetch: FetchURI) {
        self.beginObject()
        self.field("cache", ifPresent: fetch.cache) { $0.write($1) }
        self.field("destPath", ifPresent: fetch.destPath) { $0.write($1) }
        self.field("executable", ifPresent: fetch.executable) { $0.write($1) }
        self.field("extract", ifPresent: fetch.extract) { $0.write($1) }
        self.key("uri")
        self.write(fetch.uri)
        self.endObject()
    }

    /// `"disabled"`, or `{expungeAfterSeconds, inactiveAfterSeconds}` (a missing value as `null`, as
    /// `UnreachableStrategy.encode(to:)` writes it).
    mutating func write(_ strategy: UnreachableStrategy) {
        guard let inactive = strategy.inactiveAfterSeconds else {
            self.writeRaw("disabled")
            return
        }
        self.beginObject()
        self.key("expungeAfterSeconds")
        if let expunge = strategy.expungeAfterSeconds { self.writeEncodedNumber(expunge) } else { self.writeNull() }
        self.key("inactiveAfterSeconds")
        self.writeEncodedNumber(inactive)
        self.endObject()
    }

    mutating func write(_ failure: TaskFailure) {
        self.beginObject()
        self.key("appId")
        self.write(failure.appId)
        self.key("host")
        self.write(failure.host)
        self.key("message")
        self.write(failure.message)
        self.field("slaveId", ifPresent: failure.slaveId) { $0.write($1) }
        self.key("state")
        self.write(failure.state)
        self.key("taskId")
        self.write(failure.taskId)
        self.key("timestamp")
        self.write(failure.timestamp)
        self.key("version")
        self.write(failure.version)
        self.endObject()
    }

    mutating func write(_ result: HealthCheckResult) {
        self.beginObject()
        self.key("alive")
        self.write(result.alive)
        self.key("consecutiveFailures")
        self.write(result.consecutiveFailures)
        self.field("firstSuccess", ifPresent: result.firstSuccess) { $0.write($1) }
        self.key("instanceId")
        self.write(result.instanceId)
        self.field("lastFailure", ifPresent: result.lastFailure) { $0.write($1) }
        self.field("lastFailureCause", ifPresent: result.lastFailureCause) { $0.write($1) }
        self.field("lastSuccess", ifPresent: result.lastSuccess) { $0.write($1) }
        self.endObject()
    }
}
