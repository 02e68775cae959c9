// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Logging
import RegattaAgent
import RegattaCore
import RegattaZooKeeper
import ServiceLifecycle

/// `regatta agent`: runs tasks on this machine for a master.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Run an agent.")

    @Option(
        name: .customLong("master"),
        help: "The master: host:port, or zk://host:port[,host:port]/path to follow the leader elected in ZooKeeper."
    )
    var master: String?
    @Option(
        name: .customLong("zk_session_timeout"),
        help: "ZooKeeper session timeout when --master is zk:// (default 10secs)."
    )
    var zkSessionTimeout: String?
    @Option(name: .customLong("ip"), help: "Address of the agent's HTTP API (default 127.0.0.1).") var ip: String?
    @Option(name: .customLong("port"), help: "Port of the agent's HTTP API (default 5051).") var port: Int?
    @Option(name: .customLong("hostname"), help: "Hostname to register with.") var hostname: String?
    @Option(name: .customLong("work_dir"), help: "Directory for sandboxes and checkpoints.") var workDir: String?
    @Option(name: .customLong("resources"), help: "e.g. \"cpus:4;mem:8192;disk:10240;ports:[31000-32000]\".")
    var resources: String?
    @Option(name: .customLong("attributes"), help: "e.g. \"rack:a;zone:1\".") var attributes: String?
    @Option(name: .customLong("containerizers"), help: "mesos, or docker,mesos.") var containerizers: String?
    @Option(name: .customLong("isolation"), help: "e.g. cgroups/cpu,cgroups/mem.") var isolation: String?
    @Option(name: .customLong("gc_delay"), help: "Keep finished tasks' sandboxes this long (default 1weeks).")
    var gcDelay: String?
    @Option(name: .customLong("cgroups_root"), help: "Parent cgroup for tasks (default regatta).") var cgroupsRoot:
        String?
    @Option(name: .customLong("docker_socket"), help: "Docker Engine socket (default /var/run/docker.sock).")
    var dockerSocket: String?
    @OptionGroup var containerPolicy: ContainerPolicyOptions

    @Option(
        name: .customLong("max_connections"),
        help: "Connections to the agent's API open at once; more are closed on arrival (default 4096)."
    )
    var maxConnections: Int?

    @Option(
        name: .customLong("credential"),
        help:
            "File with the principal and secret the agent presents to the master: {\"principal\": \"…\", \"secret\": \"…\"} or 'principal secret'."
    )
    var credential: String?
    @Option(
        name: .customLong("credentials"),
        help:
            "File of the principals who may call the agent's HTTP API (all but /health): {\"credentials\": [{\"principal\": \"…\", \"secret\": \"…\"}]}."
    )
    var credentials: String?
    @Option(
        name: .customLong("authenticate_http_readonly"),
        help:
            "true or false: whether GET requests to the agent's API need credentials (default true with --credentials)."
    )
    var authenticateHTTPReadOnly: String?
    @Option(
        name: .customLong("authenticate_http_readwrite"),
        help:
            "true or false: whether other requests to the agent's API need credentials (default true with --credentials)."
    )
    var authenticateHTTPReadWrite: String?
    @Option(
        name: .customLong("switch_user"),
        help: "true or false: run each task as its user (CommandInfo.user, else FrameworkInfo.user) (default true)."
    )
    var switchUser: String?

    @OptionGroup var security: SecurityOptions

    func makeConfiguration() throws -> AgentConfiguration {
        guard let master = FlagEnvironment.string(self.master, "master") else {
            throw ValidationError(
                "--master is required: give the master as host:port (e.g. 127.0.0.1:5050) or as "
                    + "zk://host:port/path (e.g. zk://127.0.0.1:2181/mesos)."
            )
        }
        if master.hasPrefix("zk://") {
            do {
                guard try ZooKeeperURL(parsing: master).path.count > 1 else {
                    throw ValidationError(
                        "--master: the ZooKeeper URL names no path; write e.g. zk://127.0.0.1:2181/mesos."
                    )
                }
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError(
                    "--master: not a usable ZooKeeper URL (\(error)); write zk://host:port[,host:port]/path."
                )
            }
        } else {
            var address = Substring(master)
            for scheme in ["https://", "http://"] where address.hasPrefix(scheme) {
                address = address.dropFirst(scheme.count)
            }
            while address.hasSuffix("/") { address = address.dropLast() }
            let parts = address.split(separator: ":")
            guard parts.count == 2, Int(parts[1]) != nil else {
                throw ValidationError(
                    "--master: '\(master)' is not host:port (e.g. 127.0.0.1:5050), https://host:port or "
                        + "zk://host:port/path."
                )
            }
        }
        var configuration = AgentConfiguration(master: master)
        configuration.tls = try self.security.tls()
        if let timeout = try FlagEnvironment.duration(self.zkSessionTimeout, "zk_session_timeout", default: nil) {
            guard timeout >= .milliseconds(100) else {
                throw ValidationError(
                    "--zk_session_timeout: \(timeout) is too short; use at least 100ms (default 10secs)."
                )
            }
            configuration.zkSessionTimeout = timeout
        }
        configuration.ip = FlagEnvironment.string(self.ip, "ip", default: configuration.ip)!
        configuration.port = try FlagEnvironment.port(self.port, "port", default: 5051)
        configuration.hostname = FlagEnvironment.string(self.hostname, "hostname", default: configuration.hostname)!
        configuration.workDir = FlagEnvironment.string(self.workDir, "work_dir", default: configuration.workDir)!
        if let text = FlagEnvironment.string(self.resources, "resources") {
            do {
                configuration.resources = try Resources.parse(text)
            } catch let error as CoreError {
                throw ValidationError("--resources: \(error.message)")
            }
        }
        if let text = FlagEnvironment.string(self.attributes, "attributes") {
            do {
                configuration.attributes = try Attribute.parseList(text)
            } catch let error as CoreError {
                throw ValidationError("--attributes: \(error.message)")
            }
        }
        if let text = FlagEnvironment.string(self.containerizers, "containerizers") {
            let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for name in names where name != "mesos" && name != "docker" {
                throw ValidationError("--containerizers: unknown containerizer '\(name)'; use mesos and/or docker.")
            }
            configuration.containerizers = names
        }
        if let text = FlagEnvironment.string(self.isolation, "isolation") {
            configuration.isolation = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let delay = try FlagEnvironment.duration(self.gcDelay, "gc_delay", default: nil) {
            configuration.gcDelay = delay
        }
        if let root = FlagEnvironment.string(self.cgroupsRoot, "cgroups_root") {
            guard !root.isEmpty, !root.contains(".."), !root.hasPrefix("/") else {
                throw ValidationError("--cgroups_root: '\(root)' must be a relative cgroup name such as regatta.")
            }
            configuration.cgroupsRoot = root
        }
        if let socket = FlagEnvironment.string(self.dockerSocket, "docker_socket") {
            configuration.dockerSocket = socket
        }
        configuration.containerPolicy = try self.containerPolicy.policy()
        configuration.listener.maximumConnections = try FlagEnvironment.positiveInt(
            self.maxConnections,
            "max_connections",
            default: configuration.listener.maximumConnections
        )
        try self.applySecurity(to: &configuration)
        return configuration
    }

    /// `--credential`, `--credentials`, `--authenticate_http_*`, `--switch_user` and the safe-by-default listener
    /// check.
    func applySecurity(to configuration: inout AgentConfiguration) throws {
        if let path = FlagEnvironment.string(self.credential, "credential") {
            do {
                configuration.credential = try Credential.mesosFile(at: path)
            } catch let error as SecurityError {
                throw ValidationError("--credential: \(error.message)")
            }
        }
        var store: CredentialStore?
        if let path = FlagEnvironment.string(self.credentials, "credentials") {
            do {
                store = try CredentialStore.mesosFile(at: path)
            } catch let error as SecurityError {
                throw ValidationError("--credentials: \(error.message)")
            }
        }
        let readOnly = try Self.bool(self.authenticateHTTPReadOnly, "authenticate_http_readonly")
        let readWrite = try Self.bool(self.authenticateHTTPReadWrite, "authenticate_http_readwrite")
        for (flag, value) in [("authenticate_http_readonly", readOnly), ("authenticate_http_readwrite", readWrite)]
        where value == true && store == nil {
            throw ValidationError(
                "--\(flag) needs --credentials FILE listing who may call the agent's API; give it, or drop the flag."
            )
        }
        configuration.httpAuthentication = AgentHTTPAuthentication(
            credentials: store,
            readOnly: store != nil && readOnly != false,
            readWrite: store != nil && readWrite != false
        )
        configuration.switchUser = try Self.bool(self.switchUser, "switch_user") ?? true
        configuration.taskLauncher = TaskLauncher.currentExecutable()
        do {
            try ListenerExposure.check(
                daemon: "agent",
                host: configuration.ip,
                authenticated: configuration.httpAuthentication.coversEverything,
                insecureOptOut: try self.security.allowsUnauthenticated(),
                credentialsFlag: "--credentials FILE"
            )
        } catch let error as SecurityError {
            throw ValidationError(error.message)
        }
    }

    /// A Mesos boolean flag given as `--flag=true|false` (or the environment); `nil` when not given.
    static func bool(_ cli: String?, _ flag: String) throws -> Bool? {
        guard let text = FlagEnvironment.string(cli, flag) else { return nil }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw ValidationError("--\(flag): '\(text)' is not a boolean; use --\(flag)=true or --\(flag)=false.")
        }
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let logger = Logger(label: "regatta.agent")
        let agent = AgentService(
            configuration: configuration,
            logger: logger,
            masterDetector: ZooKeeperMasterDetector.factory(logger: logger)
        )
        let group = ShutdownBounds.serviceGroup([agent], daemon: "agent", logger: logger)
        try await group.run()
    }
}

extension Regatta {
    /// Acts as the agent's ``TaskLauncher`` (switch a task to its user, then exec its command) when the process was
    /// started as one; returns at once otherwise. Call it first thing in `main`.
    public static func runTaskLauncherIfRequested() {
        TaskLauncher.runIfRequested(CommandLine.arguments)
    }
}
