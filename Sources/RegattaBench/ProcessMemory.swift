// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Memory use of a process, read from `/proc/<pid>/status` (Linux).
public enum ProcessMemory {
    /// The peak resident set size (`VmHWM`) in bytes, of this process or of `pid`; `nil` where `/proc` is missing.
    public static func peakResidentBytes(pid: Int32? = nil) -> Int? {
        self.field("VmHWM", pid: pid)
    }

    /// The current resident set size (`VmRSS`) in bytes.
    public static func residentBytes(pid: Int32? = nil) -> Int? {
        self.field("VmRSS", pid: pid)
    }

    private static func field(_ name: String, pid: Int32?) -> Int? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kilobytes = Int(parts[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}
