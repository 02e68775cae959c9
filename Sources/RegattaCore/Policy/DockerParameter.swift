// SPDX-License-Identifier: Apache-2.0

/// A `docker run` option given as a Docker `parameter` (`{"key":"dns","value":"10.0.0.2"}`), parsed.
///
/// Keys are written without dashes (a leading `--` is tolerated) and are case-insensitive; `e`, `h`, `l`, `u`, `v`
/// and `w` stand for `env`, `hostname`, `label`, `user`, `volume` and `workdir`, `net` for `network`. Every
/// supported parameter maps onto a Docker Engine API field, which the agent sets.
public struct DockerParameter: Sendable, Hashable {
    /// Whether a parameter stays within the container or reaches the host.
    public enum Access: Sendable, Hashable {
        /// It changes only the container (DNS, labels, limits it lowers, …).
        case container
        /// It gives the container host privileges, devices, paths or namespaces; needs `--allow_privileged`.
        case host
    }

    /// The parsed value.
    public enum Option: Sendable, Hashable {
        // Container-only.
        case addHost(String)
        case dns(String)
        case dnsSearch(String)
        case dnsOption(String)
        case env(name: String, value: String)
        case hostname(String)
        case label(key: String, value: String)
        case logDriver(String)
        case logOption(key: String, value: String)
        case ulimit(name: String, soft: Int64, hard: Int64)
        case user(String)
        case workdir(String)
        case capDrop(String)
        case groupAdd(String)
        case initProcess(Bool)
        case readOnly(Bool)
        case shmSize(Int64)
        case tmpfs(path: String, options: String)
        /// `bridge` or `none` (container-only), `host` (host access).
        case network(String)
        // Host access.
        case privileged(Bool)
        case capAdd(String)
        case device(hostPath: String, containerPath: String, permissions: String)
        case deviceCgroupRule(String)
        case volume(String)
        case mount(type: String, source: String?, target: String, readOnly: Bool)
        case volumesFrom(String)
        case pid(String)
        case ipc(String)
        case uts(String)
        case userns(String)
        case cgroupns(String)
        case cgroupParent(String)
        case securityOpt(String)
    }

    /// The canonical key (`dns-search`, not `--DNS-SEARCH`).
    public var key: String
    /// The parsed value.
    public var option: Option
    /// Whether it reaches the host.
    public var access: Access

    /// Keys that stay inside the container.
    public static let containerKeys: [String] = [
        "add-host", "cap-drop", "dns", "dns-option", "dns-search", "env", "group-add", "hostname", "init", "label",
        "log-driver", "log-opt", "network", "read-only", "shm-size", "tmpfs", "ulimit", "user", "workdir",
    ]
    /// Keys that reach the host; accepted only with `--allow_privileged` (`network` only for `host`).
    public static let hostKeys: [String] = [
        "cap-add", "cgroup-parent", "cgroupns", "device", "device-cgroup-rule", "ipc", "mount", "pid", "privileged",
        "security-opt", "userns", "uts", "volume", "volumes-from",
    ]
    /// Every supported key.
    public static var supported: [String] { (Self.containerKeys + Self.hostKeys).sorted() }

    static let aliases: [String: String] = [
        "e": "env", "h": "hostname", "l": "label", "u": "user", "v": "volume", "w": "workdir", "net": "network",
        "dns-opt": "dns-option",
    ]

    /// The canonical form of `key`: no leading dashes, lowercase, aliases resolved.
    public static func canonicalKey(_ key: String) -> String {
        let bare = String(key.drop { $0 == "-" }).lowercased()
        return Self.aliases[bare] ?? bare
    }

    static let ulimitNames: Set<String> = [
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
        "rttime", "sigpending", "stack",
    ]

    /// Parses one parameter, without looking at any policy.
    ///
    /// - Throws: ``ContainerPolicyViolation`` for an unsupported key or a malformed value.
    public static func parse(key rawKey: String, value: String) throws(ContainerPolicyViolation) -> DockerParameter {
        let key = Self.canonicalKey(rawKey)
        func malformed(_ form: String) -> ContainerPolicyViolation {
            ContainerPolicyViolation("the Docker parameter '\(rawKey)' has the value '\(value)'; write it as \(form)")
        }
        func nonEmpty(_ form: String) throws(ContainerPolicyViolation) -> String {
            guard !value.isEmpty, !value.contains("\0") else { throw malformed(form) }
            return value
        }
        func pair(
            _ separator: Character,
            _ form: String,
            valueRequired: Bool = true
        ) throws(ContainerPolicyViolation)
            -> (String, String)
        {
            guard let index = value.firstIndex(of: separator) else {
                if !valueRequired, !value.isEmpty { return (value, "") }
                throw malformed(form)
            }
            let name = String(value[..<index])
            guard !name.isEmpty, !value.contains("\0") else { throw malformed(form) }
            return (name, String(value[value.index(after: index)...]))
        }
        func flag() throws(ContainerPolicyViolation) -> Bool {
            switch value.lowercased() {
            case "", "true", "1": return true
            case "false", "0": return false
            default: throw malformed("true or false")
            }
        }
        let option: Option
        var access = Access.container
        switch key {
        case "add-host":
            let separator: Character = value.contains("=") ? "=" : ":"
            let (host, address) = try pair(separator, "host:address")
            guard !address.isEmpty else { throw malformed("host:address") }
            option = .addHost("\(host):\(address)")
        case "dns": option = .dns(try nonEmpty("an address such as 10.0.0.2"))
        case "dns-search": option = .dnsSearch(try nonEmpty("a domain such as example.com"))
        case "dns-option": option = .dnsOption(try nonEmpty("a resolver option such as ndots:2"))
        case "env":
            let (name, text) = try pair("=", "NAME=value")
            option = .env(name: name, value: text)
        case "hostname": option = .hostname(try nonEmpty("a hostname"))
        case "label":
            let (name, text) = try pair("=", "key=value", valueRequired: false)
            option = .label(key: name, value: text)
        case "log-driver": option = .logDriver(try nonEmpty("a logging driver such as json-file"))
        case "log-opt":
            let (name, text) = try pair("=", "key=value")
            option = .logOption(key: name, value: text)
        case "ulimit":
            let (name, limits) = try pair("=", "name=soft[:hard], e.g. nofile=1024:4096")
            guard Self.ulimitNames.contains(name) else {
                throw ContainerPolicyViolation(
                    "the Docker parameter '\(rawKey)' names the unknown limit '\(name)'; use one of "
                        + Self.ulimitNames.sorted().joined(separator: ", ")
                )
            }
            let parts = limits.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, let soft = Self.limit(parts[0]), let hard = Self.limit(parts.last!),
                hard == -1 || (soft != -1 && soft <= hard)
            else { throw malformed("name=soft[:hard] with soft <= hard, e.g. nofile=1024:4096") }
            option = .ulimit(name: name, soft: soft, hard: hard)
        case "user": option = .user(try nonEmpty("a user name, uid or uid:gid"))
        case "workdir":
            guard value.hasPrefix("/"), !value.contains("\0") else { throw malformed("an absolute path") }
            option = .workdir(value)
        case "cap-drop": option = .capDrop(try Self.capability(value, rawKey: rawKey))
        case "group-add": option = .groupAdd(try nonEmpty("a group name or gid"))
        case "init": option = .initProcess(try flag())
        case "read-only": option = .readOnly(try flag())
        case "shm-size":
            guard let bytes = Self.byteSize(value), bytes > 0 else { throw malformed("a size such as 64m or 1g") }
            option = .shmSize(bytes)
        case "tmpfs":
            let (path, options) = try pair(":", "/path[:options]", valueRequired: false)
            guard path.hasPrefix("/") else { throw malformed("/path[:options]") }
            option = .tmpfs(path: path, options: options)
        case "network":
            switch value.lowercased() {
            case "bridge", "none": option = .network(value.lowercased())
            case "host":
                option = .network("host")
                access = .host
            default:
                throw ContainerPolicyViolation(
                    "the Docker parameter '\(rawKey)=\(value)' is not supported; use bridge, none or host, or set "
                        + "container.docker.network"
                )
            }
        case "privileged":
            option = .privileged(try flag())
            access = .host
        case "cap-add":
            option = .capAdd(try Self.capability(value, rawKey: rawKey))
            access = .host
        case "device":
            let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (1...3).contains(parts.count), parts[0].hasPrefix("/"), !value.contains("\0") else {
                throw malformed("/host/device[:/container/device[:rwm]]")
            }
            option = .device(
                hostPath: parts[0],
                containerPath: parts.count > 1 && !parts[1].isEmpty ? parts[1] : parts[0],
                permissions: parts.count > 2 ? parts[2] : "rwm"
            )
            access = .host
        case "device-cgroup-rule":
            option = .deviceCgroupRule(try nonEmpty("a rule such as 'c 1:3 mr'"))
            access = .host
        case "volume":
            guard value.contains(":") else { throw malformed("source:/container/path[:ro]") }
            option = .volume(try nonEmpty("source:/container/path[:ro]"))
            access = .host
        case "mount":
            option = try Self.mount(value, malformed: malformed("type=bind,source=/path,target=/path[,readonly]"))
            access = .host
        case "volumes-from":
            option = .volumesFrom(try nonEmpty("a container name"))
            access = .host
        case "pid":
            option = .pid(try nonEmpty("host or container:<name>"))
            access = .host
        case "ipc":
            option = .ipc(try nonEmpty("host, shareable or container:<name>"))
            access = .host
        case "uts":
            option = .uts(try nonEmpty("host"))
            access = .host
        case "userns":
            option = .userns(try nonEmpty("host"))
            access = .host
        case "cgroupns":
            option = .cgroupns(try nonEmpty("host or private"))
            access = .host
        case "cgroup-parent":
            option = .cgroupParent(try nonEmpty("a cgroup path"))
            access = .host
        case "security-opt":
            option = .securityOpt(try nonEmpty("an option such as seccomp=unconfined"))
            access = .host
        default:
            throw ContainerPolicyViolation(
                "the Docker parameter '\(rawKey)' is not supported; supported parameters: "
                    + Self.supported.joined(separator: ", ")
            )
        }
        return DockerParameter(key: key, option: option, access: access)
    }

    /// A ulimit value: a non-negative integer, or `-1`/`unlimited`.
    static func limit(_ text: String) -> Int64? {
        if text == "unlimited" || text == "-1" { return -1 }
        guard let value = Int64(text), value >= 0 else { return nil }
        return value
    }

    /// A capability name as Docker wants it (`NET_ADMIN`), from `net_admin` or `CAP_NET_ADMIN`.
    static func capability(_ value: String, rawKey: String) throws(ContainerPolicyViolation) -> String {
        var name = value.uppercased()
        if name.hasPrefix("CAP_") { name.removeFirst(4) }
        guard !name.isEmpty, name.allSatisfy({ ($0 >= "A" && $0 <= "Z") || $0 == "_" || ($0 >= "0" && $0 <= "9") })
        else {
            throw ContainerPolicyViolation(
                "the Docker parameter '\(rawKey)' has the value '\(value)'; write a capability such as NET_ADMIN "
                    + "or ALL"
            )
        }
        return name
    }

    /// `64m`, `1g`, `512k`, `1024` or `1024b` in bytes; `nil` when malformed or beyond `Int64`.
    static func byteSize(_ text: String) -> Int64? {
        var digits = text.lowercased()
        var unit: Int64 = 1
        if let last = digits.last, let multiplier = ["b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30][String(last)] {
            unit = Int64(multiplier)
            digits.removeLast()
        }
        guard let value = Int64(digits), value >= 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }

    /// `type=bind,source=/a,target=/b,readonly` (Docker's `--mount` form).
    static func mount(_ text: String, malformed: ContainerPolicyViolation) throws(ContainerPolicyViolation) -> Option {
        var type = "volume"
        var source: String?
        var target: String?
        var readOnly = false
        for field in text.split(separator: ",") {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0].lowercased()
            let value = parts.count > 1 ? parts[1] : nil
            switch name {
            case "type": type = value ?? ""
            case "source", "src": source = value
            case "target", "destination", "dst": target = value
            case "readonly", "ro":
                switch value?.lowercased() {
                case nil, "true", "1": readOnly = true
                case "false", "0": readOnly = false
                default: throw malformed
                }
            default: throw malformed
            }
        }
        guard ["bind", "volume", "tmpfs"].contains(type), let target, target.hasPrefix("/"), !text.contains("\0") else {
            throw malformed
        }
        if type == "bind" && (source?.hasPrefix("/") ?? false) == false { throw malformed }
        return .mount(type: type, source: source, target: target, readOnly: readOnly)
    }
}
