// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc

/// The instant Docker recorded a piece of container output, to the nanosecond.
///
/// `GET /containers/{id}/logs?timestamps=1` prefixes every log message with it in RFC 3339 form
/// (`2026-11-22T02:14:47.123456789Z `); the logs call's `since` takes it back as `<seconds>.<nanoseconds>` and is
/// inclusive, so resuming a copy strictly after the last copied message means passing its timestamp and skipping
/// every message stamped at or before it.
public struct DockerLogTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whole seconds since the UNIX epoch.
    public var seconds: Int64
    /// Nanoseconds within the second, `0..<1_000_000_000`.
    public var nanoseconds: Int32

    /// Creates a timestamp from seconds since the UNIX epoch and nanoseconds within the second.
    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// Parses Docker's RFC 3339 timestamp (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`); `nil` when `text` is not one.
    public init?(rfc3339 text: some Collection<UInt8>) {
        let bytes = Array(text)
        guard bytes.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"), let year = number(0..<4), let month = number(5..<7),
            let day = number(8..<10), let hour = number(11..<13), let minute = number(14..<16),
            let second = number(17..<19)
        else { return nil }
        var index = 19
        var nanoseconds = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, (48...57).contains(bytes[index]) {
                if digits < 9 {
                    nanoseconds = nanoseconds * 10 + Int(bytes[index]) - 48
                    digits += 1
                }
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { nanoseconds *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let hours = number((index + 1)..<(index + 3)), let minutes = number((index + 4)..<(index + 6))
            else { return nil }
            offset = (hours * 60 + minutes) * 60 * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month - 1)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(hour)
        fields.tm_min = Int32(minute)
        fields.tm_sec = Int32(second)
        let utc = timegm(&fields)
        guard utc != -1 || (year == 1969 && month == 12 && day == 31) else { return nil }
        self.init(seconds: Int64(utc) - Int64(offset), nanoseconds: Int32(nanoseconds))
    }

    /// Parses the `<seconds>.<nanoseconds>` form of ``sinceArgument`` (surrounding whitespace allowed).
    public init?(sinceArgument text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 9, let seconds = Int64(parts[0]), let nanoseconds = Int32(parts[1]),
            nanoseconds >= 0
        else { return nil }
        self.init(seconds: seconds, nanoseconds: nanoseconds)
    }

    /// The form the logs call's `since` parameter takes: `<seconds>.<nine digits of nanoseconds>`.
    public var sinceArgument: String {
        let fraction = String(self.nanoseconds)
        return "\(self.seconds)." + String(repeating: "0", count: 9 - fraction.count) + fraction
    }

    public var description: String { self.sinceArgument }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}
