// SPDX-License-Identifier: Apache-2.0

/// Conversions of numbers that come from the wire into times, sizes and counts, which never trap.
///
/// Swift traps when a `Double` outside an integer type's range (or NaN) is converted with `Int64(_:)`. Values from
/// requests (`failover_timeout`, `refuse_seconds`, grace periods, health-check intervals, …) reach such conversions,
/// so every one of them goes through these helpers: out-of-range values clamp to the nearest representable value and
/// NaN becomes zero. Validation with a clear error belongs where a value enters (``WireNumber/checkSeconds(_:field:)``);
/// saturation is the guarantee that a value that slipped past validation still cannot stop a daemon.
public enum Saturating {
    /// The longest span that `Int64` nanoseconds can hold, in seconds (about 292 years).
    public static let maximumSeconds: Double = 9_223_372_036

    /// `seconds` as nanoseconds, clamped to `Int64`'s range; NaN is zero.
    public static func nanoseconds(seconds: Double) -> Int64 {
        Int64(saturating: seconds * 1e9)
    }

    /// `seconds` as a `Duration`, clamped to what `Int64` nanoseconds can hold; NaN is zero.
    public static func duration(seconds: Double) -> Duration {
        .nanoseconds(self.nanoseconds(seconds: seconds))
    }

    /// `duration` as nanoseconds, clamped to `Int64`'s range.
    public static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }

    /// `duration` as whole milliseconds, clamped to `Int64`'s range.
    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }
}

extension FixedWidthInteger {
    /// `value` rounded toward zero and clamped to the type's range; NaN becomes zero.
    ///
    /// Use this instead of `init(_:)` for any `Double` that came from a request.
    public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= Double(Self.max) {
            // Double(Self.max) rounds up to a power of two for 64-bit types, so `>=` catches exactly the values that
            // would trap.
            self = Self.max
        } else if value <= Double(Self.min) {
            self = Self.min
        } else {
            self = Self(value)
        }
    }
}

/// Validation of numbers where they enter from the wire, with messages that name the field and the accepted range.
public enum WireNumber {
    /// Checks that `value` is a span of seconds a daemon can represent: finite, not negative and at most
    /// ``Saturating/maximumSeconds``.
    ///
    /// - Returns: a message naming `field` and the accepted range, or `nil` when the value is acceptable.
    public static func checkSeconds(_ value: Double, field: String) -> String? {
        guard value.isFinite, value >= 0, value <= Saturating.maximumSeconds else {
            return "'\(field)' is \(value); it must be a number of seconds between 0 and "
                + "\(Int64(Saturating.maximumSeconds)) (about 292 years)."
        }
        return nil
    }

    /// Checks that `nanoseconds` (a `DurationInfo`) is not negative.
    ///
    /// - Returns: a message naming `field`, or `nil` when the value is acceptable.
    public static func checkNanoseconds(_ nanoseconds: Int64, field: String) -> String? {
        guard nanoseconds >= 0 else {
            return "'\(field)' is \(nanoseconds); it must be a number of nanoseconds between 0 and \(Int64.max)."
        }
        return nil
    }
}
