// SPDX-License-Identifier: Apache-2.0

extension AppValidator {
    static let healthCheckProtocols = ["HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"]
    /// Protocols whose checks the agent runs; a Mesos task carries at most one.
    static let agentHealthCheckProtocols: Set<String> = ["COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"]
    static let httpHealthCheckProtocols: Set<String> = ["HTTP", "HTTPS", "MESOS_HTTP", "MESOS_HTTPS"]

    static func validateHealthChecks(_ app: AppDefinition, into violations: inout ViolationCollector) {
        let portCount = self.portCount(of: app)
        var firstAgentCheck: Int?
        for (index, check) in app.healthChecks.enumerated() {
            let path = "/healthChecks/\(index)"
            let known = self.healthCheckProtocols.contains(check.protocol)
            if !known {
                violations.add(
                    path + "/protocol",
                    "must be one of \(self.healthCheckProtocols.joined(separator: ", "))"
                )
            }

            if check.protocol == "COMMAND" {
                if let command = check.command {
                    violations.require(
                        !command.value.trimmingCharacters(in: .whitespaces).isEmpty,
                        path + "/command/value",
                        "must not be empty; give the shell command whose exit code 0 means healthy"
                    )
                } else {
                    violations.add(path + "/command", "is required for protocol COMMAND; give command.value")
                }
            } else if known {
                if check.command != nil {
                    violations.add(
                        path + "/command",
                        "is only used with protocol COMMAND; remove it or change protocol"
                    )
                }
                self.validateHealthCheckPort(check, portCount: portCount, at: path, into: &violations)
                if self.httpHealthCheckProtocols.contains(check.protocol), let checkPath = check.path,
                    !checkPath.hasPrefix("/")
                {
                    violations.add(path + "/path", "must start with '/', e.g. /health")
                }
            }

            for (field, value) in [
                ("intervalSeconds", check.intervalSeconds), ("timeoutSeconds", check.timeoutSeconds),
            ] {
                if !(value > 0) {
                    violations.add("\(path)/\(field)", "must be > 0")
                } else {
                    self.validateSeconds(value, at: "\(path)/\(field)", into: &violations)
                }
            }
            self.validateSeconds(check.gracePeriodSeconds, at: path + "/gracePeriodSeconds", into: &violations)
            self.validateSeconds(check.delaySeconds, at: path + "/delaySeconds", into: &violations)
            if check.maxConsecutiveFailures < 0 {
                violations.add(path + "/maxConsecutiveFailures", "must be >= 0")
            } else if check.maxConsecutiveFailures > self.maximumCount {
                violations.add(path + "/maxConsecutiveFailures", "must be <= \(self.maximumCount)")
            }

            if self.agentHealthCheckProtocols.contains(check.protocol) {
                if let first = firstAgentCheck {
                    violations.add(
                        path,
                        "only one COMMAND or MESOS_* health check is allowed per app (/healthChecks/\(first) is one); "
                            + "the agent runs a single check per task"
                    )
                } else {
                    firstAgentCheck = index
                }
            }
        }
    }

    /// Checks `port`/`portIndex` of a check that connects to the task (every protocol but COMMAND).
    static func validateHealthCheckPort(
        _ check: AppHealthCheck,
        portCount: Int,
        at path: String,
        into violations: inout ViolationCollector
    ) {
        switch (check.port, check.portIndex) {
        case (.some, .some):
            violations.add(path + "/port", "cannot be combined with portIndex; use one of them")
        case (nil, nil):
            violations.add(path, "needs port or portIndex to know where to connect")
        case (let port?, nil):
            violations.require(self.portRange.contains(port), path + "/port", "must be between 0 and 65535")
        case (nil, let index?):
            if portCount == 0 {
                violations.add(
                    path + "/portIndex",
                    "the app declares no ports; add a port definition or port mapping, or give port instead"
                )
            } else if !(0..<portCount).contains(index) {
                violations.add(
                    path + "/portIndex",
                    "must address one of the app's \(portCount) port(s): use 0"
                        + (portCount > 1 ? " to \(portCount - 1)" : "")
                )
            }
        }
    }
}
