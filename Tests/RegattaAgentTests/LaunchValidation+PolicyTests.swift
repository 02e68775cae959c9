// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

/// The agent enforces the container policy itself, whoever sent the task.
@Suite struct LaunchValidationPolicyTests {
    private let dockerAndProcess: Set<ContainerInfo.ContainerType> = [.mesos, .docker]

    private func dockerTask(
        privileged: Bool? = nil,
        parameters: [DockerInfo.Parameter]? = nil,
        volumes: [ContainerInfo.Volume]? = nil
    ) -> TaskInfo {
        var container = ContainerInfo(
            type: .docker,
            docker: DockerInfo(image: "busybox", privileged: privileged, parameters: parameters)
        )
        container.volumes = volumes
        return TestSupport.task("web.1", command: .shell("sleep 1"), container: container)
    }

    private func check(
        _ task: TaskInfo,
        policy: ContainerPolicy = ContainerPolicy(),
        resolve: (String) -> String = { $0 }
    ) -> LaunchValidation.Decision {
        LaunchValidation.check(
            task,
            frameworkID: "fw",
            supported: self.dockerAndProcess,
            policy: policy,
            resolve: resolve
        )
    }

    @Test func hostRootVolumeIsRefusedWithTaskErrorNamingTheFlag() {
        // Given: a framework talking to the master directly asks to mount the agent's `/`
        let task = self.dockerTask(volumes: [.init(containerPath: "/host", hostPath: "/", mode: "RW")])
        // When
        let decision = self.check(task)
        // Then
        #expect(
            decision
                == .reject(
                    state: .error,
                    message:
                        "host path '/' is not under --allowed_host_paths; start the agent with --allowed_host_paths=/ "
                        + "to allow it",
                    reason: "REASON_TASK_UNAUTHORIZED"
                )
        )
        // And the flag allows it
        #expect(self.check(task, policy: ContainerPolicy(allowedHostPaths: ["/"])) == .accept)
    }

    @Test func symlinkUnderAnAllowedPathIsResolvedFirst() {
        // Given: /srv/data/link → /etc
        let task = self.dockerTask(volumes: [.init(containerPath: "/x", hostPath: "/srv/data/link", mode: "RO")])
        let policy = ContainerPolicy(allowedHostPaths: ["/srv/data"])
        // When
        let decision = self.check(task, policy: policy, resolve: { $0 == "/srv/data/link" ? "/etc" : $0 })
        // Then
        guard case .reject(.error, let message, "REASON_TASK_UNAUTHORIZED") = decision else {
            Issue.record("a symlink leading out of an allowed path must be refused, got \(decision)")
            return
        }
        #expect(message.contains("--allowed_host_paths=/srv/data,/etc"))
        #expect(self.check(task, policy: policy) == .accept)
    }

    @Test func realSymlinksAreResolvedByTheDefaultResolver() async throws {
        try await TestSupport.withTemporaryDirectory { root in
            // Given: an allowed directory holding a symlink to /etc
            try FileManager.default.createDirectory(atPath: root + "/allowed", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root + "/allowed/etc", withDestinationPath: "/etc")
            let policy = ContainerPolicy(allowedHostPaths: [HostPath.resolve(root + "/allowed")])
            // When
            let escaping = LaunchValidation.check(
                self.dockerTask(volumes: [.init(containerPath: "/x", hostPath: root + "/allowed/etc", mode: nil)]),
                frameworkID: "fw",
                supported: self.dockerAndProcess,
                policy: policy
            )
            let missing = LaunchValidation.check(
                self.dockerTask(volumes: [.init(containerPath: "/x", hostPath: root + "/allowed/new/dir", mode: nil)]),
                frameworkID: "fw",
                supported: self.dockerAndProcess,
                policy: policy
            )
            // Then: the symlink is judged by its target; a path Docker will create is judged by its parent
            #expect(escaping != .accept)
            #expect(missing == .accept)
        }
    }

    @Test func privilegedIsRefusedUnlessAllowed() {
        let task = self.dockerTask(privileged: true)
        #expect(
            self.check(task)
                == .reject(
                    state: .error,
                    message:
                        "privileged containers are not allowed; start the agent with --allow_privileged to allow it",
                    reason: "REASON_TASK_UNAUTHORIZED"
                )
        )
        #expect(self.check(task, policy: ContainerPolicy(allowPrivileged: true)) == .accept)
    }

    @Test func dockerParametersFollowTheSharedPolicy() {
        // Given / When / Then: a harmless parameter is accepted
        #expect(self.check(self.dockerTask(parameters: [.init(key: "dns", value: "10.0.0.2")])) == .accept)
        // A host-access parameter names --allow_privileged
        let pid = self.check(self.dockerTask(parameters: [.init(key: "pid", value: "host")]))
        guard case .reject(.error, let message, "REASON_TASK_UNAUTHORIZED") = pid else {
            Issue.record("pid=host must be refused, got \(pid)")
            return
        }
        #expect(message.hasSuffix("start the agent with --allow_privileged to allow it"))
        #expect(
            self.check(
                self.dockerTask(parameters: [.init(key: "pid", value: "host")]),
                policy: ContainerPolicy(allowPrivileged: true)
            ) == .accept
        )
        // An unknown parameter is refused with the list of supported ones
        guard
            case .reject(.error, let unknown, _) = self.check(
                self.dockerTask(parameters: [.init(key: "restart", value: "always")])
            )
        else {
            Issue.record("an unknown parameter must be refused")
            return
        }
        #expect(unknown.contains("'restart' is not supported; supported parameters:"))
    }

    @Test func sandboxRelativeVolumesAreAllowedButNotDotDot() {
        #expect(
            self.check(self.dockerTask(volumes: [.init(containerPath: "/d", hostPath: "data", mode: nil)])) == .accept
        )
        #expect(
            self.check(self.dockerTask(volumes: [.init(containerPath: "/d", hostPath: "../../etc", mode: nil)]))
                != .accept
        )
    }
}
