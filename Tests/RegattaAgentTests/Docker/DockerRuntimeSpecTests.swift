// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

/// How launch requests become Docker `create` bodies and API URLs (no Docker needed).
@Suite struct DockerRuntimeSpecTests {
    private let configuration = DockerContainerRuntime.Configuration()

    private func request(
        command: CommandInfo? = .shell("echo hi"),
        network: DockerInfo.Network? = nil,
        portMappings: [DockerInfo.PortMapping]? = nil,
        parameters: [DockerInfo.Parameter]? = nil,
        privileged: Bool? = nil,
        resources: String = "cpus:0.5;mem:128",
        labels: Labels? = nil,
        volumes: [ContainerInfo.Volume]? = nil,
        type: ContainerInfo.ContainerType = .docker
    ) -> ContainerLaunchRequest {
        var container = ContainerInfo(
            type: type,
            docker: DockerInfo(
                image: "regatta-test/busybox:latest",
                network: network,
                portMappings: portMappings,
                privileged: privileged,
                parameters: parameters
            )
        )
        container.volumes = volumes
        var task = TaskInfo(
            name: "web",
            taskId: "web.1",
            agentId: "agent-7",
            resources: (try? Resources.parse(resources)) ?? Resources(),
            command: command,
            container: container
        )
        task.labels = labels
        return ContainerLaunchRequest(
            containerID: "c0ffee",
            frameworkID: "framework-1",
            agentID: "agent-7",
            task: task,
            sandbox: "/var/lib/regatta/sandbox/c0ffee",
            hostname: "node-1.example"
        )
    }

    /// A volume as the master would send it (`ContainerInfo.Volume` has no public initializer).
    private func volume(containerPath: String, hostPath: String?, mode: String?) throws -> ContainerInfo.Volume {
        var json: [String: String] = ["container_path": containerPath]
        json["host_path"] = hostPath
        json["mode"] = mode
        return try MesosJSON.decode(ContainerInfo.Volume.self, from: JSONSerialization.data(withJSONObject: json))
    }

    /// The spec for `request`; symlinks are not resolved (the paths do not exist here) unless `resolve` says so.
    private func spec(
        _ request: ContainerLaunchRequest,
        policy: ContainerPolicy = ContainerPolicy(),
        resolve: (String) -> String = { $0 }
    ) throws -> DockerContainerSpec {
        var configuration = self.configuration
        configuration.containerPolicy = policy
        return try DockerContainerRuntime.containerSpec(for: request, configuration: configuration, resolve: resolve)
    }

    /// The `launchFailed` message for a request the runtime must refuse.
    private func refusal(
        _ request: ContainerLaunchRequest,
        policy: ContainerPolicy = ContainerPolicy(),
        resolve: (String) -> String = { $0 }
    ) -> String? {
        do {
            _ = try self.spec(request, policy: policy, resolve: resolve)
            return nil
        } catch let error as AgentError {
            return error.code == .launchFailed ? error.message : "unexpected code \(error.code)"
        } catch {
            return "unexpected error \(error)"
        }
    }

    @Test func shellCommandRunsUnderShWithTheImageEntrypointCleared() throws {
        let spec = try self.spec(self.request(command: .shell("echo $HOST && sleep 1")))
        #expect(spec.entrypoint == [])
        #expect(spec.cmd == ["/bin/sh", "-c", "echo $HOST && sleep 1"])
        #expect(spec.image == "regatta-test/busybox:latest")
        #expect(spec.tty == false)
    }

    @Test func argumentsGoToTheImageEntrypoint() throws {
        // Given: Marathon `args`, as the scheduler sends them (value is argv[0], arguments the whole argv)
        let args = CommandInfo(shell: false, value: "--port", arguments: ["--port", "80"])
        // When
        let spec = try self.spec(self.request(command: args))
        // Then
        #expect(spec.entrypoint == nil)
        #expect(spec.cmd == ["--port", "80"])
        // And a bare non-shell value is the whole command
        let bare = try self.spec(self.request(command: CommandInfo(shell: false, value: "/bin/httpd")))
        #expect(bare.cmd == ["/bin/httpd"])
    }

    @Test func noCommandKeepsTheImageDefaults() throws {
        for command in [nil, CommandInfo(shell: false), CommandInfo(shell: true, value: "")] as [CommandInfo?] {
            let spec = try self.spec(self.request(command: command))
            #expect(spec.entrypoint == nil)
            #expect(spec.cmd == nil)
        }
    }

    @Test func environmentHasTaskVariablesAndMesosVariables() throws {
        // Given
        let command = CommandInfo.shell("env", environment: ["PORT0": "31000", "MESOS_SANDBOX": "/not/this"])
        // When
        let spec = try self.spec(
            self.request(command: command, parameters: [.init(key: "env", value: "FROM_PARAM=a=b")])
        )
        // Then
        let environment = Set(spec.env ?? [])
        #expect(environment.contains("PORT0=31000"))
        #expect(environment.contains("HOST=node-1.example"))
        #expect(environment.contains("MESOS_TASK_ID=web.1"))
        #expect(environment.contains("MESOS_SANDBOX=/mnt/mesos/sandbox"))
        #expect(environment.contains("MESOS_CONTAINER_NAME=regatta-c0ffee"))
        #expect(environment.contains("MESOS_FRAMEWORK_ID=framework-1"))
        #expect(environment.contains("MESOS_AGENT_ID=agent-7"))
        #expect(environment.contains("FROM_PARAM=a=b"))
        #expect(spec.env == spec.env?.sorted())
    }

    @Test func labelsCombineTaskLabelsParametersAndRegattaLabels() throws {
        // Given: a task label trying to override a Regatta label
        let spec = try self.spec(
            self.request(
                parameters: [.init(key: "label", value: "tier=front")],
                labels: Labels(["team": "web", DockerLabel.taskID: "forged"])
            )
        )
        // Then
        let labels = spec.labels ?? [:]
        #expect(labels["team"] == "web")
        #expect(labels["tier"] == "front")
        #expect(labels[DockerLabel.taskID] == "web.1")
        #expect(labels[DockerLabel.frameworkID] == "framework-1")
        #expect(labels[DockerLabel.agentID] == "agent-7")
        #expect(labels[DockerLabel.containerID] == "c0ffee")
        #expect(labels[DockerLabel.sandbox] == "/var/lib/regatta/sandbox/c0ffee")
    }

    @Test func allowedParametersSetUserWorkdirAndHostname() throws {
        let spec = try self.spec(
            self.request(
                network: .bridge,
                parameters: [
                    .init(key: "user", value: "65534"), .init(key: "workdir", value: "/tmp"),
                    .init(key: "hostname", value: "web-1"),
                ]
            )
        )
        #expect(spec.user == "65534")
        #expect(spec.workingDir == "/tmp")
        #expect(spec.hostname == "web-1")
    }

    @Test func refusesHostAccessParametersAndUnknownOnesNamingTheFlag() throws {
        // Given / When
        let capAdd = try #require(
            self.refusal(self.request(parameters: [.init(key: "cap-add", value: "SYS_ADMIN")]))
        )
        let unknown = try #require(self.refusal(self.request(parameters: [.init(key: "restart", value: "always")])))
        // Then
        #expect(
            capAdd
                == "Task 'web.1' is refused: the Docker parameter 'cap-add=SYS_ADMIN' gives the container access to "
                + "the host; start the agent with --allow_privileged to allow it"
        )
        #expect(unknown.contains("'restart' is not supported; supported parameters: add-host, cap-add"))
        #expect(self.refusal(self.request(parameters: [.init(key: "env", value: "NO_EQUALS")])) != nil)
        // And with --allow_privileged the capability is added
        let allowed = try self.spec(
            self.request(parameters: [.init(key: "cap-add", value: "sys_admin")]),
            policy: ContainerPolicy(allowPrivileged: true)
        )
        #expect(allowed.hostConfig.capAdd?.contains("SYS_ADMIN") == true)
    }

    @Test func refusesPrivilegedContainersAndOtherRuntimesTasks() throws {
        let privileged = try #require(self.refusal(self.request(privileged: true)))
        #expect(privileged.contains("privileged containers are not allowed; start the agent with --allow_privileged"))
        #expect(self.refusal(self.request(type: .mesos)) != nil)
        // With --allow_privileged the container is privileged
        let allowed = try self.spec(self.request(privileged: true), policy: ContainerPolicy(allowPrivileged: true))
        #expect(allowed.hostConfig.privileged == true)
    }

    @Test func everyContainerIsHardened() throws {
        // Given / When: a task asking for nothing special
        let host = try self.spec(self.request()).hostConfig
        // Then
        #expect(host.securityOpt == ["no-new-privileges"])
        #expect(host.pidsLimit == 4096)
        #expect(host.capDrop == ["ALL"])
        #expect(
            host.capAdd == [
                "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID",
            ]
        )
        #expect(host.privileged == nil)
        // And a task may drop more
        let fewer = try self.spec(self.request(parameters: [.init(key: "cap-drop", value: "CHOWN")])).hostConfig
        #expect(fewer.capAdd?.contains("CHOWN") == false)
        let none = try self.spec(self.request(parameters: [.init(key: "cap-drop", value: "ALL")])).hostConfig
        #expect(none.capAdd == [])
    }

    @Test func acceptedParametersAreAppliedToDockerFields() throws {
        // Given: every container-only parameter
        let parameters: [DockerInfo.Parameter] = [
            .init(key: "add-host", value: "db:10.0.0.5"), .init(key: "dns", value: "10.0.0.2"),
            .init(key: "dns-search", value: "example.com"), .init(key: "dns-option", value: "ndots:2"),
            .init(key: "log-driver", value: "json-file"), .init(key: "log-opt", value: "max-size=10m"),
            .init(key: "ulimit", value: "nofile=1024:4096"), .init(key: "group-add", value: "audio"),
            .init(key: "init", value: "true"), .init(key: "read-only", value: ""),
            .init(key: "shm-size", value: "64m"), .init(key: "tmpfs", value: "/run:size=1m"),
            .init(key: "network", value: "none"),
        ]
        // When
        let spec = try self.spec(self.request(parameters: parameters))
        let host = spec.hostConfig
        // Then
        #expect(host.extraHosts == ["db:10.0.0.5"])
        #expect(host.dns == ["10.0.0.2"])
        #expect(host.dnsSearch == ["example.com"])
        #expect(host.dnsOptions == ["ndots:2"])
        #expect(host.logConfig == .init(type: "json-file", config: ["max-size": "10m"]))
        #expect(host.ulimits == [.init(name: "nofile", soft: 1024, hard: 4096)])
        #expect(host.groupAdd == ["audio"])
        #expect(host.initProcess == true)
        #expect(host.readonlyRootfs == true)
        #expect(host.shmSize == 64 << 20)
        #expect(host.tmpfs == ["/run": "size=1m"])
        #expect(host.networkMode == "none")
        // And the JSON uses Docker's field names
        let json = try #require(
            JSONSerialization.jsonObject(with: DockerEngineClient.encoder().encode(spec)) as? [String: Any]
        )
        let encoded = try #require(json["HostConfig"] as? [String: Any])
        for field in [
            "ExtraHosts", "Dns", "DnsSearch", "DnsOptions", "LogConfig", "Ulimits", "GroupAdd", "Init",
            "ReadonlyRootfs", "ShmSize", "Tmpfs", "SecurityOpt", "PidsLimit", "CapDrop", "CapAdd",
        ] {
            #expect(encoded[field] != nil, "\(field)")
        }
    }

    @Test func hostAccessParametersAreAppliedWithAllowPrivileged() throws {
        // Given
        let parameters: [DockerInfo.Parameter] = [
            .init(key: "pid", value: "host"), .init(key: "ipc", value: "host"), .init(key: "uts", value: "host"),
            .init(key: "device", value: "/dev/fuse"), .init(key: "v", value: "/srv:/srv:ro"),
            .init(key: "mount", value: "type=bind,source=/etc,target=/host-etc,readonly"),
            .init(key: "security-opt", value: "seccomp=unconfined"), .init(key: "cgroup-parent", value: "/x"),
            .init(key: "network", value: "host"),
        ]
        // When
        let host = try self.spec(
            self.request(network: .bridge, parameters: parameters),
            policy: ContainerPolicy(allowPrivileged: true)
        ).hostConfig
        // Then
        #expect(host.pidMode == "host" && host.ipcMode == "host" && host.utsMode == "host")
        #expect(
            host.devices == [.init(pathOnHost: "/dev/fuse", pathInContainer: "/dev/fuse", cgroupPermissions: "rwm")]
        )
        #expect(host.binds?.last == "/srv:/srv:ro")
        #expect(host.mounts == [.init(type: "bind", source: "/etc", target: "/host-etc", readOnly: true)])
        #expect(host.securityOpt == ["no-new-privileges", "seccomp=unconfined"])
        #expect(host.cgroupParent == "/x")
        #expect(host.networkMode == "host")
    }

    @Test func hugeResourcesSaturateInsteadOfTrapping() throws {
        // Given: the largest amounts a Scalar holds
        var configuration = self.configuration
        configuration.enforceCPUQuota = true
        let request = self.request(resources: "cpus:1000000000000;mem:1000000000000")
        // When
        let host = try DockerContainerRuntime.containerSpec(
            for: request,
            configuration: configuration,
            resolve: { $0 }
        ).hostConfig
        // Then
        #expect(host.nanoCpus == Int64.max)
        #expect(host.cpuShares == 1_024_000_000_000_000)
        let megabytes: Int64 = 1_000_000_000_000
        #expect(host.memory == megabytes * 1_048_576)
        #expect(host.memorySwap == host.memory)
    }

    @Test func bridgePortMappingsArePublishedOnTheConfiguredAddress() throws {
        // Given
        let request = self.request(
            network: .bridge,
            portMappings: [
                .init(hostPort: 31000, containerPort: 80),
                .init(hostPort: 31001, containerPort: 53, protocol: "udp,tcp"),
                .init(hostPort: 0, containerPort: 8080),
            ]
        )
        // When
        let spec = try self.spec(request)
        // Then
        #expect(spec.hostConfig.networkMode == "bridge")
        #expect(Set(spec.exposedPorts?.keys.map { $0 } ?? []) == ["80/tcp", "53/udp", "53/tcp", "8080/tcp"])
        let bindings = spec.hostConfig.portBindings ?? [:]
        #expect(bindings["80/tcp"] == [.init(hostIp: "127.0.0.1", hostPort: "31000")])
        #expect(bindings["53/udp"] == [.init(hostIp: "127.0.0.1", hostPort: "31001")])
        #expect(bindings["53/tcp"] == [.init(hostIp: "127.0.0.1", hostPort: "31001")])
        #expect(bindings["8080/tcp"] == [.init(hostIp: "127.0.0.1", hostPort: "")])
        // And the address is configurable
        var configuration = self.configuration
        configuration.portBindingHostIP = "10.0.0.5"
        let public_ = try DockerContainerRuntime.containerSpec(for: request, configuration: configuration)
        #expect(public_.hostConfig.portBindings?["80/tcp"]?.first?.hostIp == "10.0.0.5")
    }

    @Test func networkModes() throws {
        #expect(try self.spec(self.request(network: nil)).hostConfig.networkMode == "host")
        #expect(try self.spec(self.request(network: .host)).hostConfig.networkMode == "host")
        #expect(try self.spec(self.request(network: DockerInfo.Network.none)).hostConfig.networkMode == "none")
        #expect(self.refusal(self.request(network: .user)) != nil)
        let hostWithMappings = try #require(
            self.refusal(self.request(network: .host, portMappings: [.init(hostPort: 31000, containerPort: 80)]))
        )
        #expect(hostWithMappings.contains("BRIDGE"))
    }

    @Test func memoryAndCPULimitsComeFromResources() throws {
        // Given
        let request = self.request(resources: "cpus:0.5;mem:128")
        // When
        let shares = try self.spec(request).hostConfig
        var configuration = self.configuration
        configuration.enforceCPUQuota = true
        let quota = try DockerContainerRuntime.containerSpec(for: request, configuration: configuration).hostConfig
        // Then
        let bytes: Int64 = 128 * 1024 * 1024
        #expect(shares.memory == bytes)
        #expect(shares.memorySwap == bytes)
        #expect(shares.cpuShares == 512)
        #expect(shares.nanoCpus == nil)
        #expect(quota.nanoCpus == 500_000_000)
        #expect(quota.cpuShares == 512)
        // And no resources means no limits
        let none = try self.spec(self.request(resources: "disk:10")).hostConfig
        #expect(none.memory == nil && none.cpuShares == nil)
    }

    @Test func hostVolumesNeedAllowedHostPaths() throws {
        // Given: a framework that talks to the master directly asks to mount the agent's `/`
        let root = [try self.volume(containerPath: "/host", hostPath: "/", mode: "RW")]
        // When / Then: refused, naming the flag that would allow it
        #expect(
            self.refusal(self.request(volumes: root))
                == "Task 'web.1' is refused: host path '/' is not under --allowed_host_paths; start the agent with "
                + "--allowed_host_paths=/ to allow it"
        )
        // And a path under an allowed one is bound, a symlink leading out of it is not
        let data = [try self.volume(containerPath: "/data", hostPath: "/srv/data", mode: "RO")]
        let allowed = try self.spec(self.request(volumes: data), policy: ContainerPolicy(allowedHostPaths: ["/srv"]))
        #expect(allowed.hostConfig.binds?.last == "/srv/data:/data:ro")
        let escaping = self.refusal(
            self.request(volumes: data),
            policy: ContainerPolicy(allowedHostPaths: ["/srv"]),
            resolve: { $0 == "/srv/data" ? "/etc" : $0 }
        )
        #expect(escaping?.contains("host path '/etc' is not under --allowed_host_paths") == true)
    }

    @Test func sandboxVolumesAreBindMountedAndStayInside() throws {
        // Given
        let spec = try self.spec(
            self.request(volumes: [try self.volume(containerPath: "/scratch", hostPath: "scratch", mode: "RW")])
        )
        // Then
        #expect(
            spec.hostConfig.binds == [
                "/var/lib/regatta/sandbox/c0ffee:/mnt/mesos/sandbox",
                "/var/lib/regatta/sandbox/c0ffee/scratch:/scratch:rw",
            ]
        )
        #expect(
            self.refusal(self.request(volumes: [try self.volume(containerPath: "/x", hostPath: nil, mode: nil)]))
                != nil
        )
        #expect(
            self.refusal(self.request(volumes: [try self.volume(containerPath: "/x", hostPath: "../..", mode: nil)]))?
                .contains("contains '..'") == true
        )
        // A symlink in the sandbox that leads out of it is refused
        let planted = self.refusal(
            self.request(volumes: [try self.volume(containerPath: "/x", hostPath: "link", mode: nil)]),
            resolve: { $0.hasSuffix("/link") ? "/etc" : $0 }
        )
        #expect(planted?.contains("leads outside the sandbox") == true)
    }

    @Test func containerNamesAreValidDockerNames() {
        #expect(DockerContainerRuntime.containerName(for: "1f0e-ab") == "regatta-1f0e-ab")
        #expect(DockerContainerRuntime.containerName(for: "a/b c:d") == "regatta-a_b_c_d")
    }

    @Test func specEncodesWithDockerFieldNames() throws {
        // Given
        let spec = try self.spec(
            self.request(network: .bridge, portMappings: [.init(hostPort: 31000, containerPort: 80)])
        )
        // When
        let json = try #require(
            JSONSerialization.jsonObject(with: DockerEngineClient.encoder().encode(spec)) as? [String: Any]
        )
        // Then
        #expect(json["Image"] as? String == "regatta-test/busybox:latest")
        #expect(json["Entrypoint"] as? [String] == [])
        #expect((json["ExposedPorts"] as? [String: Any])?["80/tcp"] != nil)
        let host = try #require(json["HostConfig"] as? [String: Any])
        #expect(host["NetworkMode"] as? String == "bridge")
        #expect(host["Memory"] as? Int == 128 * 1024 * 1024)
        let bindings = try #require(host["PortBindings"] as? [String: [[String: String]]])
        #expect(bindings["80/tcp"] == [["HostIp": "127.0.0.1", "HostPort": "31000"]])
        #expect(host["NanoCpus"] == nil)
        // An absent command leaves Entrypoint and Cmd out, so the image's defaults apply.
        let defaults = try #require(
            JSONSerialization.jsonObject(
                with: DockerEngineClient.encoder().encode(try self.spec(self.request(command: nil)))
            )
                as? [String: Any]
        )
        #expect(defaults["Entrypoint"] == nil && defaults["Cmd"] == nil)
    }

    @Test func urlsUseThePercentEncodedSocketAndTheAPIVersion() {
        #expect(
            DockerEngineClient.url(
                socketPath: "/var/run/docker.sock",
                version: "1.43",
                path: "/containers/json",
                query: [("all", "1")]
            )
                == "http+unix://%2Fvar%2Frun%2Fdocker.sock/v1.43/containers/json?all=1"
        )
        #expect(
            DockerEngineClient.url(
                socketPath: "/run/docker.sock",
                version: nil,
                path: "/_ping",
                query: []
            )
                == "http+unix://%2Frun%2Fdocker.sock/_ping"
        )
        let filtered = DockerEngineClient.url(
            socketPath: "/var/run/docker.sock",
            version: "1.41",
            path: "/containers/json",
            query: [("filters", #"{"label":["regatta.agent_id=a 1"]}"#)]
        )
        #expect(
            filtered.hasSuffix(
                "/v1.41/containers/json?filters=%7B%22label%22%3A%5B%22regatta.agent_id%3Da%201%22%5D%7D"
            )
        )
    }

    @Test func imageReferencesSplitIntoRepositoryAndTag() {
        let cases: [(String, String, String)] = [
            ("busybox", "busybox", "latest"),
            ("busybox:1.36", "busybox", "1.36"),
            ("regatta-test/busybox:latest", "regatta-test/busybox", "latest"),
            ("registry.local:5000/team/app", "registry.local:5000/team/app", "latest"),
            ("registry.local:5000/team/app:2.1", "registry.local:5000/team/app", "2.1"),
            ("app:1@sha256:abcd", "app", "sha256:abcd"),
        ]
        for (reference, repository, tag) in cases {
            let parsed = DockerImageReference(reference)
            #expect(parsed.repository == repository, "\(reference)")
            #expect(parsed.tagOrDigest == tag, "\(reference)")
        }
    }

    @Test func versionsCompareNumericallyAndGracePeriodsRoundUp() {
        #expect(DockerEngineClient.compare("1.41", "1.43") < 0)
        #expect(DockerEngineClient.compare("1.100", "1.43") > 0)
        #expect(DockerEngineClient.compare("1.43", "1.43") == 0)
        #expect(DockerEngineClient.wholeSeconds(.seconds(3)) == 3)
        #expect(DockerEngineClient.wholeSeconds(.milliseconds(1500)) == 2)
        #expect(DockerEngineClient.wholeSeconds(.milliseconds(1)) == 1)
        #expect(DockerEngineClient.wholeSeconds(.zero) == 0)
    }

    @Test func hugeGracePeriodsSaturateInsteadOfTrapping() {
        // Given: a kill policy's grace period of about 292 years, the most DurationInfo holds
        let huge = Duration.nanoseconds(Int64.max) * 1000
        // When / Then
        #expect(DockerEngineClient.timeAmount(huge).nanoseconds == Int64.max)
        #expect(DockerEngineClient.timeAmount(.zero - huge).nanoseconds == Int64.min)
        #expect(DockerEngineClient.timeAmount(.milliseconds(1500)).nanoseconds == 1_500_000_000)
        #expect(DockerEngineClient.wholeSeconds(huge) == Int64(Int32.max))
        #expect(MasterClient.timeAmount(huge).nanoseconds == Int64.max)
    }

    @Test func inspectAnswersBecomeExits() throws {
        // Given: Docker's inspect answer after an OOM kill
        let json = #"""
            {"Id": "abc", "Name": "/regatta-c0ffee",
             "State": {"Status": "exited", "Running": false, "OOMKilled": true, "Pid": 0, "ExitCode": 137,
                       "Error": "", "StartedAt": "2024-01-01T00:00:00Z", "FinishedAt": "2024-01-01T00:00:01Z"},
             "Config": {"Image": "regatta-test/busybox:latest", "Labels": {"regatta.task_id": "web.1"}, "Tty": false},
             "HostConfig": {"Memory": 16777216, "Binds": null, "PortBindings": {}},
             "NetworkSettings": {"Ports": {"80/tcp": null}}}
            """#
        let details = try JSONDecoder().decode(DockerContainerDetails.self, from: Data(json.utf8))
        // When
        let exit = DockerContainerRuntime.exit(from: details)
        // Then
        #expect(exit.termination == ContainerTermination(status: .exited(code: 137), killed: false))
        #expect(exit.oomKilled)
        #expect(exit.engineError == nil)
        #expect(exit.limitationReason == "REASON_CONTAINER_LIMITATION_MEMORY")
        // A kill the agent asked for is not a limitation.
        var killed = exit
        killed.termination.killed = true
        #expect(killed.limitationReason == nil)
        #expect(exit.reported.limitation?.reason == "REASON_CONTAINER_LIMITATION_MEMORY")
        #expect(exit.reported.limitation?.message.contains("Requested: 16MB") == true)
        #expect(killed.reported.limitation == nil)
        // A container that never started has no exit code.
        var created = details
        created.state.status = "created"
        created.state.exitCode = 0
        #expect(
            {
                if case .unknown = DockerContainerRuntime.exit(from: created).termination.status { return true }
                return false
            }()
        )
    }
}
