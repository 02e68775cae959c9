// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import RegattaCore
import Testing

@testable import RegattaAgent

@Suite struct CgroupIsolatorTests {
    private let v1Mounts = """
        tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
        cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
        cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
        cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
        cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
        """
    private let v2Mounts = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n"

    @Test func prefersTheV1HierarchyHoldingTheController() throws {
        let isolator = try CgroupIsolator.detect(
            isolation: ["cgroups/cpu", "cgroups/mem"],
            root: "/regatta/",
            mounts: self.v1Mounts,
            readFile: { $0 == "/sys/fs/cgroup/unified/cgroup.controllers" ? "hugetlb\n" : nil }
        )
        #expect(isolator?.cpu == .v1("/sys/fs/cgroup/cpu"))
        #expect(isolator?.memory == .v1("/sys/fs/cgroup/memory"))
        #expect(isolator?.root == "regatta")
        #expect(isolator?.directory("c1", in: .v1("/sys/fs/cgroup/memory")) == "/sys/fs/cgroup/memory/regatta/c1")
    }

    @Test func usesV2WhenItHoldsTheControllers() throws {
        let isolator = try CgroupIsolator.detect(
            isolation: ["cgroups/cpu", "cgroups/mem"],
            root: "regatta",
            mounts: self.v2Mounts,
            readFile: { $0 == "/sys/fs/cgroup/cgroup.controllers" ? "cpuset cpu io memory pids\n" : nil }
        )
        #expect(isolator?.cpu == .v2("/sys/fs/cgroup"))
        #expect(isolator?.memory == .v2("/sys/fs/cgroup"))
        #expect(isolator?.hierarchies == [.v2("/sys/fs/cgroup")])
    }

    @Test func refusesWhatTheMachineLacksAndUnknownIsolators() throws {
        // posix isolators need nothing
        #expect(try CgroupIsolator.detect(isolation: ["posix/cpu", "posix/mem"], root: "r", mounts: "") == nil)
        let missing = #expect(throws: AgentError.self) {
            try CgroupIsolator.detect(
                isolation: ["cgroups/mem"],
                root: "r",
                mounts: self.v2Mounts,
                readFile: { _ in "cpu pids" }
            )
        }
        #expect(missing?.message.contains("'memory' cgroup controller") == true)
        let unknown = #expect(throws: AgentError.self) {
            try CgroupIsolator.detect(isolation: ["network/cni"], root: "r", mounts: self.v1Mounts)
        }
        #expect(unknown?.message.contains("'network/cni'") == true)
    }

    @Test func convertsLimitsAsMesosDoes() {
        #expect(CgroupIsolator.memoryLimitBytes(megabytes: 64) == 64 << 20)
        #expect(CgroupIsolator.memoryLimitBytes(megabytes: 1) == 32 << 20)
        #expect(CgroupIsolator.weight(shares: 1024) == 39)
        #expect(CgroupIsolator.weight(shares: 2) == 1)
        #expect(CgroupIsolator.weight(shares: 262_144) == 10_000)
    }

    /// Writes real groups on this machine (needs root and a mounted cpu and memory controller).
    @Test(.enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: "/proc/self/mounts")))
    func createsGroupsWithLimitsAndRemovesThem() throws {
        guard
            let isolator = try? CgroupIsolator.detect(
                isolation: ["cgroups/cpu", "cgroups/mem"],
                root: "regatta-test"
            )
        else { return }
        let container = ContainerID("unit-\(UUID().uuidString.lowercased())")
        let procs = try isolator.prepare(container, cpus: 0.25, memoryMegabytes: 48)
        defer { _ = isolator.destroy(container) }
        #expect(procs.count == isolator.hierarchies.count)
        for file in procs { #expect(FileManager.default.fileExists(atPath: file)) }
        if case .v1 = isolator.cpu {
            let directory = isolator.directory(container, in: isolator.cpu!)
            #expect(try String(contentsOfFile: directory + "/cpu.cfs_quota_us", encoding: .utf8) == "25000\n")
            #expect(try String(contentsOfFile: directory + "/cpu.shares", encoding: .utf8) == "256\n")
        }
        if case .v1 = isolator.memory {
            let directory = isolator.directory(container, in: isolator.memory!)
            #expect(
                try String(contentsOfFile: directory + "/memory.limit_in_bytes", encoding: .utf8) == "\(48 << 20)\n"
            )
        }
        #expect(isolator.memoryLimitation(container) == nil)
        #expect(isolator.processes(container).isEmpty)
        #expect(isolator.destroy(container))
        for file in procs { #expect(!FileManager.default.fileExists(atPath: file)) }
    }
}
