// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

extension AppValidator {
    static let containerTypes: Set<String> = ["DOCKER", "MESOS"]
    static let dockerNetworks: Set<String> = ["HOST", "BRIDGE", "USER", "NONE"]
    static let volumeModes: Set<String> = ["RO", "RW"]
    /// Who must be restarted to allow what the policy refuses, in refusal messages.
    static let policyDaemons = "scheduler and its agents"

    static func validateContainer(
        _ app: AppDefinition,
        policy: ContainerPolicy,
        into violations: inout ViolationCollector
    ) {
        guard let container = app.container else { return }
        let type = container.type ?? "DOCKER"
        if !self.containerTypes.contains(type) {
            violations.add("/container/type", "must be DOCKER or MESOS")
        }
        if let docker = container.docker {
            self.validateDocker(docker, type: type, policy: policy, into: &violations)
        } else if type == "DOCKER" {
            violations.add("/container/docker", "is required for a DOCKER container; give docker.image")
        }
        self.validatePortMappings(app, container, into: &violations)
        for (index, volume) in (container.volumes ?? []).enumerated() {
            let path = "/container/volumes/\(index)"
            if volume.containerPath.trimmingCharacters(in: .whitespaces).isEmpty {
                violations.add(path + "/containerPath", "must not be empty")
            }
            if let hostPath = volume.hostPath, let refusal = policy.checkHostPath(hostPath) {
                violations.add(path + "/hostPath", refusal.message(for: self.policyDaemons))
            }
            if let mode = volume.mode, !self.volumeModes.contains(mode) {
                violations.add(path + "/mode", "must be RO or RW")
            }
        }
    }

    static func validateDocker(
        _ docker: AppContainer.Docker,
        type: String,
        policy: ContainerPolicy,
        into violations: inout ViolationCollector
    ) {
        let path = "/container/docker"
        if type == "MESOS" {
            violations.add(
                path,
                "Docker images run only in DOCKER containers here; set container.type to DOCKER or remove docker"
            )
        }
        let image = docker.image.trimmingCharacters(in: .whitespaces)
        if image.isEmpty {
            violations.add(path + "/image", "must not be empty; give an image such as nginx:1.25")
        } else if image.contains(where: \.isWhitespace) {
            violations.add(path + "/image", "must be an image reference without spaces, such as nginx:1.25")
        }
        if let network = docker.network, !self.dockerNetworks.contains(network) {
            violations.add(path + "/network", "must be HOST, BRIDGE, USER or NONE")
        }
        if let refusal = policy.checkPrivileged(docker.privileged) {
            violations.add(path + "/privileged", refusal.message(for: self.policyDaemons))
        }
        let parameters = docker.parameters ?? []
        if parameters.count > self.maximumDockerParameters {
            violations.add(path + "/parameters", "must have at most \(self.maximumDockerParameters) entries")
        }
        for (index, parameter) in parameters.enumerated().prefix(self.maximumDockerParameters) {
            if DockerParameter.canonicalKey(parameter.key).isEmpty {
                violations.add(path + "/parameters/\(index)/key", "must not be empty; give a docker run option name")
                continue
            }
            let at = path + "/parameters/\(index)"
            do {
                _ = try DockerParameter.parse(key: parameter.key, value: parameter.value)
            } catch {
                let known = DockerParameter.supported.contains(DockerParameter.canonicalKey(parameter.key))
                violations.add(at + (known ? "/value" : "/key"), error.message(for: self.policyDaemons))
                continue
            }
            do {
                _ = try policy.dockerParameter(key: parameter.key, value: parameter.value)
            } catch {
                violations.add(at + "/key", error.message(for: self.policyDaemons))
            }
        }
    }

    static func validatePortMappings(
        _ app: AppDefinition,
        _ container: AppContainer,
        into violations: inout ViolationCollector
    ) {
        let legacy = container.portMappings == nil
        let collection = legacy ? "/container/docker/portMappings" : "/container/portMappings"
        let mappings = container.effectivePortMappings
        if !legacy, !(container.docker?.portMappings ?? []).isEmpty {
            violations.add(
                "/container/docker/portMappings",
                "cannot be combined with container.portMappings; keep only container.portMappings"
            )
        }
        guard !mappings.isEmpty else { return }
        if !self.usesPortMappings(app) {
            violations.add(
                collection,
                "are only allowed with BRIDGE or USER networking; set container.docker.network or use portDefinitions"
            )
        }
        var firstIndexOfHostPort: [Int: Int] = [:]
        var firstIndexOfName: [String: Int] = [:]
        for (index, mapping) in mappings.enumerated() {
            let path = "\(collection)/\(index)"
            for (field, value) in [
                ("containerPort", mapping.containerPort), ("hostPort", mapping.hostPort),
                ("servicePort", mapping.servicePort),
            ] {
                if let value, !self.portRange.contains(value) {
                    violations.add("\(path)/\(field)", "must be between 0 and 65535")
                }
            }
            if let hostPort = mapping.hostPort, hostPort > 0, self.portRange.contains(hostPort) {
                if let first = firstIndexOfHostPort[hostPort] {
                    violations.add(
                        path + "/hostPort",
                        "duplicates \(collection)/\(first)/hostPort (\(hostPort)); host ports must be unique"
                    )
                } else {
                    firstIndexOfHostPort[hostPort] = index
                }
            }
            if let value = mapping.protocol {
                self.validateProtocol(value, at: path + "/protocol", into: &violations)
            }
            if let name = mapping.name {
                self.validatePortName(
                    name,
                    at: path + "/name",
                    firstIndexOfName: &firstIndexOfName,
                    index: index,
                    collection: collection,
                    into: &violations
                )
            }
        }
    }
}
