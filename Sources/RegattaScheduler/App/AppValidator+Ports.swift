// SPDX-License-Identifier: Apache-2.0

extension AppValidator {
    static let portRange = 0...65535
    static let portProtocols: Set<String> = ["tcp", "udp", "udp,tcp"]
    static let portNamePattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

    /// The network a Docker container uses; `HOST` when unset or when there is no container.
    static func network(of app: AppDefinition) -> String {
        app.container?.docker?.network ?? "HOST"
    }

    /// Whether the app's ports come from `container.portMappings` (BRIDGE or USER networking).
    static func usesPortMappings(_ app: AppDefinition) -> Bool {
        ["BRIDGE", "USER"].contains(self.network(of: app))
    }

    /// How many ports a health check's `portIndex` can address: the port mappings when the container has
    /// any, else the port definitions (Marathon's `portIndices`).
    static func portCount(of app: AppDefinition) -> Int {
        let mappings = app.container?.effectivePortMappings ?? []
        return mappings.isEmpty ? app.portDefinitions.count : mappings.count
    }

    static func validatePortDefinitions(_ app: AppDefinition, into violations: inout ViolationCollector) {
        let definitions = app.portDefinitions
        if self.usesPortMappings(app) && !definitions.isEmpty {
            violations.add(
                "/portDefinitions",
                "must be empty with \(self.network(of: app)) networking; declare ports in container.portMappings"
            )
        }
        var firstIndexOfPort: [Int: Int] = [:]
        var firstIndexOfName: [String: Int] = [:]
        var dynamicIndices: [Int] = []
        for (index, definition) in definitions.enumerated() {
            let path = "/portDefinitions/\(index)"
            if !self.portRange.contains(definition.port) {
                violations.add(path + "/port", "must be between 0 and 65535")
            } else if definition.port == 0 {
                dynamicIndices.append(index)
            } else if let first = firstIndexOfPort[definition.port] {
                violations.add(
                    path + "/port",
                    "duplicates /portDefinitions/\(first)/port (\(definition.port)); ports must be unique"
                )
            } else {
                firstIndexOfPort[definition.port] = index
            }
            self.validateProtocol(definition.protocol, at: path + "/protocol", into: &violations)
            if let name = definition.name {
                self.validatePortName(
                    name,
                    at: path + "/name",
                    firstIndexOfName: &firstIndexOfName,
                    index: index,
                    collection: "/portDefinitions",
                    into: &violations
                )
            }
        }
        if app.requirePorts && !dynamicIndices.isEmpty {
            let offending = dynamicIndices.map { "/portDefinitions/\($0)" }.joined(separator: ", ")
            violations.add(
                "/requirePorts",
                "cannot be true while a port is 0 (\(offending)); give fixed ports or set requirePorts to false"
            )
        }
    }

    static func validateProtocol(_ value: String, at path: String, into violations: inout ViolationCollector) {
        violations.require(self.portProtocols.contains(value), path, "must be tcp, udp or udp,tcp")
    }

    static func validatePortName(
        _ name: String,
        at path: String,
        firstIndexOfName: inout [String: Int],
        index: Int,
        collection: String,
        into violations: inout ViolationCollector
    ) {
        if !self.isValidPortName(name) {
            violations.add(path, "must match \(self.portNamePattern); use lowercase letters, digits and '-'")
        } else if let first = firstIndexOfName[name] {
            violations.add(path, "duplicates \(collection)/\(first)/name ('\(name)'); port names must be unique")
        } else {
            firstIndexOfName[name] = index
        }
    }

    /// Whether `name` matches ``portNamePattern``.
    static func isValidPortName(_ name: String) -> Bool {
        guard let first = name.first, let last = name.last else { return false }
        return name.allSatisfy { self.isLowercaseAlphanumeric($0) || $0 == "-" }
            && self.isLowercaseAlphanumeric(first) && self.isLowercaseAlphanumeric(last)
    }
}
