// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Parsing and formatting of Mesos's duration flags (`15secs`, `500ms`, `2mins`, `1hrs`, `3days`).
public enum MesosDuration {
    private static let units: [(suffix: String, nanoseconds: Double)] = [
        ("ns", 1), ("us", 1e3), ("ms", 1e6), ("secs", 1e9), ("mins", 60e9), ("hrs", 3600e9),
        ("days", 86400e9), ("weeks", 604800e9),
    ]

    /// Parses a duration; a bare number is taken as seconds.
    ///
    /// - Throws: `CoreError.invalidDuration` naming the accepted forms.
    public static func parse(_ text: String) throws -> Duration {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for unit in self.units.sorted(by: { $0.suffix.count > $1.suffix.count }) where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            if let value = Double(number), value >= 0, value.isFinite {
                return try self.bounded(value * unit.nanoseconds, text)
            }
        }
        if let seconds = Double(trimmed), seconds >= 0, seconds.isFinite {
            return try self.bounded(seconds * 1e9, text)
        }
        throw CoreError(
            .invalidDuration,
            "'\(text)' is not a duration; use a number with a unit such as 500ms, 15secs, 2mins, 1hrs or 3days."
        )
    }

    private static func bounded(_ nanoseconds: Double, _ text: String) throws -> Duration {
        // Ten years is beyond any timeout that makes sense and far from Int64 overflow.
        guard nanoseconds <= 10 * 365 * 86400e9 else {
            throw CoreError(.invalidDuration, "'\(text)' is too long; durations must be at most 3650days.")
        }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// Formats like Mesos (`15secs`, `500ms`).
    public static func format(_ duration: Duration) -> String {
        let nanoseconds = Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
        for unit in self.units.reversed() where nanoseconds >= unit.nanoseconds {
            let value = nanoseconds / unit.nanoseconds
            if value == value.rounded() { return "\(Int64(value))\(unit.suffix)" }
        }
        return "\(Int64(nanoseconds))ns"
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    public var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }
}
