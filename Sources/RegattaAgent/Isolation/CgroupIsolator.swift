// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import RegattaCore

/// Puts command tasks into control groups that enforce their `cpus` and `mem` (Mesos's `cgroups/cpu` and
/// `cgroups/mem` isolators), on cgroup v1 or v2, whichever holds the controller on this machine.
///
/// Each container gets `<hierarchy>/<root>/<container_id>` (root defaults to `regatta`, as Mesos's `--cgroups_root`
/// is `mesos`):
///
/// | | cgroup v1 | cgroup v2 |
/// |---|---|---|
/// | cpu | `cpu.shares` = cpus × 1024 (≥ 2); `cpu.cfs_period_us` = 100000; `cpu.cfs_quota_us` = cpus × 100000 (≥ 1000) | `cpu.weight` from the same shares; `cpu.max` = `<quota> 100000` |
/// | mem | `memory.limit_in_bytes` = `memory.soft_limit_in_bytes` = mem MB (≥ 32 MB) | `memory.max` (and `memory.swap.max` = 0) |
/// | out of memory | `memory.oom_control`: `oom_kill` | `memory.events`: `oom_kill` |
///
/// A controller is taken from a v1 hierarchy when one is mounted with it, else from the v2 hierarchy when its
/// `cgroup.controllers` lists it; an isolator whose controller is in neither is refused at start.
struct CgroupIsolator: Sendable, Hashable {
    /// Where one controller lives.
    enum Hierarchy: Hashable, Sendable {
        /// A v1 hierarchy mounted at this path.
        case v1(String)
        /// The v2 (unified) hierarchy mounted at this path.
        case v2(String)

        var mountPoint: String {
            switch self {
            case .v1(let path), .v2(let path): path
            }
        }
    }

    /// The hierarchy of the cpu controller, if `cgroups/cpu` is enabled.
    var cpu: Hierarchy?
    /// The hierarchy of the memory controller, if `cgroups/mem` is enabled.
    var memory: Hierarchy?
    /// The parent group of all containers, relative to each hierarchy's mount point.
    var root: String

    /// The smallest memory limit, as Mesos's `MIN_MEMORY`.
    static let minimumMemoryBytes: UInt64 = 32 << 20
    static let cfsPeriodMicroseconds = 100_000
    static let minimumQuotaMicroseconds = 1000

    // MARK: - Detection

    /// Finds the hierarchies for the requested isolators in `/proc/self/mounts`.
    ///
    /// - Parameters:
    ///   - isolation: the `--isolation` names; `cgroups/cpu` and `cgroups/mem` are handled here, `posix/*` need
    ///     nothing, and any other name is refused.
    ///   - mounts: the text of `/proc/self/mounts`; read from the system when `nil`.
    ///   - readFile: reads a v2 hierarchy's `cgroup.controllers`; injected by tests.
    /// - Returns: `nil` when no cgroups isolator is requested.
    /// - Throws: `AgentError.invalidConfiguration` naming an unknown isolator or a controller this machine lacks.
    static func detect(
        isolation: [String],
        root: String,
        mounts: String? = nil,
        readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }
    ) throws -> CgroupIsolator? {
        var wantCPU = false
        var wantMemory = false
        for name in isolation {
            switch name {
            case "cgroups/cpu": wantCPU = true
            case "cgroups/mem": wantMemory = true
            case "posix/cpu", "posix/mem", "posix/disk", "filesystem/posix": continue
            default:
                throw AgentError(
                    .invalidConfiguration,
                    "Isolator '\(name)' is not supported; "
                        + "--isolation accepts cgroups/cpu, cgroups/mem, posix/cpu and posix/mem."
                )
            }
        }
        guard wantCPU || wantMemory else { return nil }
        guard let text = mounts ?? readFile("/proc/self/mounts") else {
            throw AgentError(
                .invalidConfiguration,
                "Cannot read /proc/self/mounts to find the cgroup hierarchies; drop cgroups/* from --isolation."
            )
        }
        var v1: [String: String] = [:]
        var v2: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4 else { continue }
            let mountPoint = Self.unescape(String(fields[1]))
            switch fields[2] {
            case "cgroup":
                for option in fields[3].split(separator: ",") where v1[String(option)] == nil {
                    v1[String(option)] = mountPoint
                }
            case "cgroup2":
                if v2 == nil { v2 = mountPoint }
            default:
                continue
            }
        }
        let v2Controllers = Set(
            v2.flatMap { readFile($0 + "/cgroup.controllers") }?.split(whereSeparator: \.isWhitespace).map(
                String.init
            ) ?? []
        )
        func hierarchy(for controller: String, isolator: String) throws -> Hierarchy {
            if let path = v1[controller] { return .v1(path) }
            if let v2, v2Controllers.contains(controller) { return .v2(v2) }
            throw AgentError(
                .invalidConfiguration,
                "Isolator '\(isolator)' needs the '\(controller)' cgroup controller, which no cgroup v1 or v2 "
                    + "hierarchy on this machine provides; mount it or drop '\(isolator)' from --isolation."
            )
        }
        let trimmedRoot = root.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return CgroupIsolator(
            cpu: wantCPU ? try hierarchy(for: "cpu", isolator: "cgroups/cpu") : nil,
            memory: wantMemory ? try hierarchy(for: "memory", isolator: "cgroups/mem") : nil,
            root: trimmedRoot.isEmpty ? "regatta" : trimmedRoot
        )
    }

    /// `/proc/mounts` escapes spaces and a few other characters as octal (`\040`).
    private static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var result = ""
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            if characters[index] == "\\", index + 3 < characters.count,
                let value = UInt8(String(characters[(index + 1)...(index + 3)]), radix: 8)
            {
                result.append(Character(UnicodeScalar(value)))
                index += 4
            } else {
                result.append(characters[index])
                index += 1
            }
        }
        return result
    }

    // MARK: - Containers

    /// The distinct hierarchies in use.
    var hierarchies: [Hierarchy] {
        var result: [Hierarchy] = []
        for hierarchy in [self.cpu, self.memory].compactMap({ $0 }) where !result.contains(hierarchy) {
            result.append(hierarchy)
        }
        return result
    }

    /// The container's group directory in one hierarchy.
    func directory(_ container: ContainerID, in hierarchy: Hierarchy) -> String {
        "\(hierarchy.mountPoint)/\(self.root)/\(container.value)"
    }

    /// Creates the container's groups and writes its limits.
    ///
    /// - Parameters:
    ///   - cpus: the task's `cpus`, or `nil` to leave cpu unlimited.
    ///   - memoryMegabytes: the task's `mem`, or `nil` to leave memory unlimited.
    /// - Returns: the `cgroup.procs` files the task's supervisor must write its pid into.
    /// - Throws: `AgentError.launchFailed` naming the file that could not be created or written.
    func prepare(_ container: ContainerID, cpus: Double?, memoryMegabytes: Double?) throws -> [String] {
        for hierarchy in self.hierarchies {
            let parent = "\(hierarchy.mountPoint)/\(self.root)"
            try self.makeDirectory(parent)
            if case .v2(let mount) = hierarchy {
                // v2 hands controllers down level by level; the parent must enable them for its children.
                let controllers = [self.cpu == hierarchy ? "+cpu" : nil, self.memory == hierarchy ? "+memory" : nil]
                    .compactMap { $0 }.joined(separator: " ")
                try self.write(controllers, to: mount + "/cgroup.subtree_control")
                try self.write(controllers, to: parent + "/cgroup.subtree_control")
            }
            try self.makeDirectory(self.directory(container, in: hierarchy))
        }
        if let cpu = self.cpu, let cpus, cpus > 0 {
            let directory = self.directory(container, in: cpu)
            let shares = max(2, Int(saturating: (cpus * 1024).rounded()))
            let quota = max(
                Self.minimumQuotaMicroseconds,
                Int(saturating: (cpus * Double(Self.cfsPeriodMicroseconds)).rounded())
            )
            switch cpu {
            case .v1:
                try self.write(String(shares), to: directory + "/cpu.shares")
                try self.write(String(Self.cfsPeriodMicroseconds), to: directory + "/cpu.cfs_period_us")
                try self.write(String(quota), to: directory + "/cpu.cfs_quota_us")
            case .v2:
                try self.write(String(Self.weight(shares: shares)), to: directory + "/cpu.weight")
                try self.write("\(quota) \(Self.cfsPeriodMicroseconds)", to: directory + "/cpu.max")
            }
        }
        if let memory = self.memory, let memoryMegabytes, memoryMegabytes > 0 {
            let directory = self.directory(container, in: memory)
            let bytes = Self.memoryLimitBytes(megabytes: memoryMegabytes)
            switch memory {
            case .v1:
                try self.write(String(bytes), to: directory + "/memory.limit_in_bytes")
                try self.write(String(bytes), to: directory + "/memory.soft_limit_in_bytes")
            case .v2:
                try self.write(String(bytes), to: directory + "/memory.max")
                if FileManager.default.fileExists(atPath: directory + "/memory.swap.max") {
                    try self.write("0", to: directory + "/memory.swap.max")
                }
            }
        }
        return self.hierarchies.map { self.directory(container, in: $0) + "/cgroup.procs" }
    }

    /// The memory limit for `mem` MB, never below ``minimumMemoryBytes``.
    static func memoryLimitBytes(megabytes: Double) -> UInt64 {
        max(Self.minimumMemoryBytes, UInt64(saturating: megabytes * 1_048_576))
    }

    /// cgroup v2's `cpu.weight` for v1 `cpu.shares` (the kernel's and systemd's mapping).
    static func weight(shares: Int) -> Int {
        // Shares beyond v1's maximum (262144) would overflow the product and map to the top weight anyway.
        let shares = min(max(shares, 2), 262_144)
        return min(10_000, max(1, 1 + ((shares - 2) * 9999) / 262_142))
    }

    /// The memory limitation the container hit, if the kernel's OOM killer acted in its group.
    func memoryLimitation(_ container: ContainerID) -> ContainerLimitation? {
        guard let memory = self.memory else { return nil }
        let directory = self.directory(container, in: memory)
        let files: (counters: String, limit: String, peak: String)
        switch memory {
        case .v1:
            files = ("/memory.oom_control", "/memory.limit_in_bytes", "/memory.max_usage_in_bytes")
        case .v2:
            files = ("/memory.events", "/memory.max", "/memory.peak")
        }
        guard let text = Self.read(directory + files.counters), let kills = Self.counter("oom_kill", in: text),
            kills > 0
        else { return nil }
        func megabytes(_ file: String) -> String {
            Self.read(directory + file).flatMap { UInt64($0) }.map { "\($0 / 1_048_576)MB" } ?? "unknown"
        }
        return ContainerLimitation(
            reason: ContainerLimitation.memoryReason,
            message:
                "Memory limit exceeded: Requested: \(megabytes(files.limit)) Maximum Used: \(megabytes(files.peak))"
        )
    }

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The pids in the container's groups.
    func processes(_ container: ContainerID) -> Set<Int32> {
        var pids = Set<Int32>()
        for hierarchy in self.hierarchies {
            let file = self.directory(container, in: hierarchy) + "/cgroup.procs"
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            pids.formUnion(text.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) })
        }
        return pids
    }

    /// Removes the container's groups; `false` while some still hold processes (call again later).
    func destroy(_ container: ContainerID) -> Bool {
        var done = true
        for hierarchy in self.hierarchies {
            let directory = self.directory(container, in: hierarchy)
            if rmdir(directory) != 0 && errno != ENOENT {
                done = false
            }
        }
        return done
    }

    /// The value of a `name value` line in a cgroup counters file (`memory.oom_control`, `memory.events`).
    static func counter(_ name: String, in text: String) -> UInt64? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == name { return UInt64(fields[1]) }
        }
        return nil
    }

    private func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw AgentError(
                .launchFailed,
                "Cannot create the control group '\(path)': \(String(cString: strerror(errno))); "
                    + "run the agent as root or drop cgroups/* from --isolation."
            )
        }
    }

    private func write(_ value: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw AgentError(
                .launchFailed,
                "Cannot open the control group file '\(path)': \(String(cString: strerror(errno)))."
            )
        }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw AgentError(
                .launchFailed,
                "Cannot write '\(value)' to the control group file '\(path)': \(String(cString: strerror(errno)))."
            )
        }
    }
}
