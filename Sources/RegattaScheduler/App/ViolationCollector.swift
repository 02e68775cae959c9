// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Gathers validation errors grouped by JSON pointer, keeping paths in the order they were first reported.
struct ViolationCollector {
    private var paths: [String] = []
    private var errors: [String: [String]] = [:]

    /// Records `message` for `path`; a message repeated for the same path is kept once.
    mutating func add(_ path: String, _ message: String) {
        if self.errors[path] == nil {
            self.paths.append(path)
            self.errors[path] = [message]
        } else if !self.errors[path]!.contains(message) {
            self.errors[path]!.append(message)
        }
    }

    /// Records `message` for `path` unless `condition` holds.
    mutating func require(_ condition: Bool, _ path: String, _ message: @autoclosure () -> String) {
        if !condition { self.add(path, message()) }
    }

    /// The violations, one per path.
    var violations: [ValidationViolation] {
        self.paths.map { ValidationViolation(path: $0, errors: self.errors[$0] ?? []) }
    }

    /// Escapes one reference token of a JSON pointer (RFC 6901): `~` → `~0`, `/` → `~1`.
    static func token(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// A number as the user would write it: `300`, `0.5`.
    static func number(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
