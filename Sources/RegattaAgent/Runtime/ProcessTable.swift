// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc

/// Reads processes from `/proc`.
enum ProcessTable {
    /// The fields of `/proc/<pid>/stat` the agent uses.
    struct Stat: Hashable, Sendable {
        var pid: Int32
        /// `R`, `S`, `D`, `Z` (zombie), `X` (dead), …
        var state: Character
        var parentPID: Int32
        var processGroup: Int32
        /// User and system CPU time, in clock ticks.
        var cpuTicks: UInt64
        /// Start time in clock ticks after boot (field 22): with the pid, it identifies a process for good.
        var startTime: UInt64

        /// Whether the process has exited (a zombie or dead entry).
        var hasExited: Bool { self.state == "Z" || self.state == "X" }
    }

    /// The stat of `pid`, or `nil` if there is no such process.
    static func stat(_ pid: Int32) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return self.parseStat(text)
    }

    /// Parses the text of `/proc/<pid>/stat`; the command name (field 2) may hold spaces and parentheses, so
    /// fields are counted after its last `)`.
    static func parseStat(_ text: String) -> Stat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
            let pid = Int32(text[..<open].trimmingCharacters(in: .whitespaces))
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state); field N is fields[N - 3].
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]),
            let group = Int32(fields[2]), let user = UInt64(fields[11]), let system = UInt64(fields[12]),
            let start = UInt64(fields[19])
        else { return nil }
        return Stat(
            pid: pid,
            state: state,
            parentPID: parent,
            processGroup: group,
            cpuTicks: user + system,
            startTime: start
        )
    }

    /// Whether the process `pid` that started at `startTime` still runs (a different process with a recycled pid
    /// does not count, nor does a zombie).
    static func isRunning(_ pid: Int32, startTime: UInt64?) -> Bool {
        guard let stat = self.stat(pid), !stat.hasExited else { return false }
        guard let startTime else { return true }
        return stat.startTime == startTime
    }

    /// The live (non-zombie) members of process group `group`.
    static func members(ofGroup group: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let stat = self.stat(pid), stat.processGroup == group, !stat.hasExited
            else { return nil }
            return pid
        }
    }

    /// The command line of `pid` with its arguments separated by spaces, or `nil`.
    static func commandLine(_ pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), for CPU times and start times.
    static var ticksPerSecond: Int {
        max(1, Int(sysconf(Int32(_SC_CLK_TCK))))
    }
}
