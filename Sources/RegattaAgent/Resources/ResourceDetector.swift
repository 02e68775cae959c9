// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import RegattaCore

/// Works out the resources an agent offers: the machine's CPUs, memory, disk and a default port range,
/// overridden by anything given in `--resources`.
///
/// As in Mesos, a resource name given in `--resources` (with any role) replaces the detected value of that
/// name entirely, and names the agent does not detect (`gpus`, custom ones) are offered as given.
/// Defaults: `cpus` = online cores; `mem` = `MemTotal` minus a reserve of 1 GB, or half of it below 2 GB;
/// `disk` = size of the work directory's file system minus a reserve of 5 GB, or half of it below 10 GB (its size,
/// not its free space, as Mesos does, so the value is stable across restarts and the saved agent info stays
/// compatible);
/// `ports` = `[31000-32000]`.
public enum ResourceDetector {
    /// What was read from the machine; `nil` for values that were not read because they are overridden.
    public struct Probe: Hashable, Sendable {
        /// Online CPU cores.
        public var cpus: Int?
        /// Total memory in bytes (`MemTotal`).
        public var memoryBytes: UInt64?
        /// The size of the work directory's file system, in bytes.
        public var diskBytes: UInt64?

        /// Creates a probe result; leave out what was not read.
        public init(cpus: Int? = nil, memoryBytes: UInt64? = nil, diskBytes: UInt64? = nil) {
            self.cpus = cpus
            self.memoryBytes = memoryBytes
            self.diskBytes = diskBytes
        }
    }

    /// The port range offered when `--resources` has no `ports`, as in Mesos.
    public static let defaultPorts = RangeSet([ValueRange(begin: 31000, end: 32000)])

    private static let mebibyte: UInt64 = 1 << 20
    private static let gibibyte: UInt64 = 1 << 30

    /// Detects the resources of this machine and applies `overrides`.
    ///
    /// Only values that are not overridden are read, so a machine without `/proc/meminfo` works when
    /// `mem` is given.
    /// - Throws: `AgentError.resourceDetection` if a needed value cannot be read.
    public static func detect(workDir: String, overrides: Resources?) throws -> Resources {
        let given = Set(overrides?.list.map(\.name) ?? [])
        var probe = Probe()
        if !given.contains("cpus") {
            probe.cpus = Self.onlineCPUs()
        }
        if !given.contains("mem") {
            let text: String
            do {
                text = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
            } catch {
                throw AgentError(
                    .resourceDetection,
                    "Cannot read '/proc/meminfo' to detect memory; give it in --resources, e.g. 'mem:4096'.",
                    cause: error
                )
            }
            guard let bytes = Self.memoryTotalBytes(meminfo: text) else {
                throw AgentError(
                    .resourceDetection,
                    "'/proc/meminfo' has no MemTotal line; give memory in --resources, e.g. 'mem:4096'."
                )
            }
            probe.memoryBytes = bytes
        }
        if !given.contains("disk") {
            probe.diskBytes = try Self.fileSystemBytes(path: workDir)
        }
        return Self.resources(probe: probe, overrides: overrides)
    }

    /// Combines probed values with overrides; pure, so the arithmetic can be tested with injected values.
    public static func resources(probe: Probe, overrides: Resources?) -> Resources {
        var result = overrides ?? Resources()
        let given = Set(result.list.map(\.name))
        var detected: [Resource] = []
        if !given.contains("cpus"), let cpus = probe.cpus {
            detected.append(.scalar("cpus", Double(cpus)))
        }
        if !given.contains("mem"), let bytes = probe.memoryBytes {
            detected.append(.scalar("mem", Self.memoryMegabytes(totalBytes: bytes)))
        }
        if !given.contains("disk"), let bytes = probe.diskBytes {
            detected.append(.scalar("disk", Self.diskMegabytes(fileSystemBytes: bytes)))
        }
        if !given.contains("ports") {
            detected.append(.ranges("ports", Self.defaultPorts))
        }
        for resource in detected {
            // Names checked above are absent, so adding cannot clash in type.
            try? result.add(resource)
        }
        return result
    }

    /// Memory to offer, in whole MB: total minus 1 GB, or half of the total below 2 GB (Mesos's rule).
    public static func memoryMegabytes(totalBytes: UInt64) -> Double {
        let offered = totalBytes >= 2 * Self.gibibyte ? totalBytes - Self.gibibyte : totalBytes / 2
        return Double(offered / Self.mebibyte)
    }

    /// Disk to offer, in whole MB: the file system's size minus 5 GB, or half of it below 10 GB (Mesos's rule).
    public static func diskMegabytes(fileSystemBytes: UInt64) -> Double {
        let offered =
            fileSystemBytes >= 10 * Self.gibibyte ? fileSystemBytes - 5 * Self.gibibyte : fileSystemBytes / 2
        return Double(offered / Self.mebibyte)
    }

    /// Parses `MemTotal:  16318600 kB` out of `/proc/meminfo` text, in bytes.
    public static func memoryTotalBytes(meminfo: String) -> UInt64? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.dropFirst("MemTotal:".count).split(separator: " ", omittingEmptySubsequences: true)
            guard let amount = fields.first.flatMap({ UInt64($0) }) else { return nil }
            let unit = fields.count > 1 ? fields[1].lowercased() : "b"
            switch unit {
            case "kb": return amount * 1024
            case "mb": return amount * Self.mebibyte
            case "gb": return amount * Self.gibibyte
            default: return amount
            }
        }
        return nil
    }

    /// Online CPU cores (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
    public static func onlineCPUs() -> Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// The size in bytes of the file system holding `path` (`statvfs`: `f_blocks` × `f_frsize`).
    ///
    /// - Throws: `AgentError.resourceDetection` if `statvfs` fails.
    public static func fileSystemBytes(path: String) throws -> UInt64 {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else {
            let reason = String(cString: strerror(errno))
            throw AgentError(
                .resourceDetection,
                "Cannot read the size of '\(path)' (\(reason)); create the work directory or give disk in --resources, e.g. 'disk:10240'."
            )
        }
        return UInt64(stats.f_blocks) * UInt64(stats.f_frsize)
    }
}
