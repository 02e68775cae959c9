// SPDX-License-Identifier: Apache-2.0

/// Conversions of wire values (resource amounts, durations) to integers that clamp instead of trapping.
// TODO(lead): use RegattaCore saturating helper
enum Saturating {
    /// `value` rounded toward zero, clamped to `Int64`'s range; NaN is `0`.
    static func int64(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        // 2^63 is the first Double beyond Int64.max; -2^63 is Int64.min exactly.
        if value >= 9_223_372_036_854_775_808.0 { return .max }
        if value <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(value)
    }

    /// `value` rounded toward zero, clamped to `UInt64`'s range; NaN and negatives are `0`.
    static func uint64(_ value: Double) -> UInt64 {
        guard !value.isNaN, value > 0 else { return 0 }
        if value >= 18_446_744_073_709_551_616.0 { return .max }
        return UInt64(value)
    }

    /// `value` rounded to the nearest integer, clamped to `Int`'s range; NaN is `0`.
    static func int(_ value: Double) -> Int {
        Int(truncatingIfNeeded: Self.int64(value.rounded()))
    }
}
