// SPDX-License-Identifier: Apache-2.0
import Foundation

extension SchedulerState {
    /// When an event happens, as the shell read its clocks: every event the machine handles comes with one.
    public struct Now: Sendable, Hashable {
        /// Monotonic time since the scheduler started: launch delays, kill retries and the reconciliation cadence are
        /// measured on it.
        public var uptime: Duration
        /// Wall-clock time: app versions, `stagedAt`, `startedAt` and task failures are stamped with it.
        public var date: Date

        public init(uptime: Duration, date: Date) {
            self.uptime = uptime
            self.date = date
        }
    }

    /// A version timestamp for `now`: ISO 8601 in UTC with milliseconds, strictly later than the last one handed out
    /// (two changes in one millisecond, or a wall clock stepping back, still get ordered versions).
    mutating func timestamp(_ now: Now) -> String {
        let millis = max(Int64((now.date.timeIntervalSince1970 * 1000).rounded(.down)), self.lastVersionMillis &+ 1)
        self.lastVersionMillis = millis
        return Self.iso8601(millisecondsSince1970: millis)
    }

    /// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` of a time in milliseconds since 1970, as `ISO8601DateFormatter` writes it with
    /// `.withInternetDateTime` and `.withFractionalSeconds` (without its cost per call).
    static func iso8601(millisecondsSince1970 millis: Int64) -> String {
        let (days, dayMillis) = Self.floorDivide(millis, 86_400_000)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let hour = dayMillis / 3_600_000
        let minute = dayMillis / 60_000 % 60
        let second = dayMillis / 1000 % 60
        let milli = dayMillis % 1000
        return "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))T\(Self.pad(hour, 2)):"
            + "\(Self.pad(minute, 2)):\(Self.pad(second, 2)).\(Self.pad(milli, 3))Z"
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
