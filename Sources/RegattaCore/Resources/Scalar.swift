// SPDX-License-Identifier: Apache-2.0

/// A non-negative resource amount kept as fixed point with three decimals, as Mesos does.
///
/// Arithmetic on `Scalar` is exact: `0.1 + 0.2 == 0.3`. Values are rounded to the nearest
/// thousandth when created from a `Double`.
public struct Scalar: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The amount in thousandths.
    public var milli: Int64

    /// Creates a scalar from thousandths.
    public init(milli: Int64) {
        self.milli = milli
    }

    /// The largest amount parsers accept (10^12): far above any real machine, far below `Int64` overflow.
    public static let maximumValue: Double = 1e12

    /// Creates a scalar from a floating-point value, rounded to three decimals and clamped to
    /// ±``maximumValue`` (NaN becomes zero), so hostile input can never trap.
    public init(_ value: Double) {
        let clamped = value.isNaN ? 0 : min(max(value, -Scalar.maximumValue), Scalar.maximumValue)
        self.milli = Int64((clamped * 1000).rounded())
    }

    /// The zero amount.
    public static let zero = Scalar(milli: 0)

    /// The amount as a floating-point value.
    public var value: Double { Double(self.milli) / 1000 }

    // Sums saturate instead of trapping: amounts come from the wire, and a request repeating a huge amount must not
    // stop a daemon. Where a sum is built from a request, `Resources` refuses it beyond `maximumValue` first.
    public static func + (lhs: Scalar, rhs: Scalar) -> Scalar { Scalar(milli: Self.saturating(lhs.milli, rhs.milli)) }
    public static func - (lhs: Scalar, rhs: Scalar) -> Scalar { Scalar(milli: Self.saturating(lhs.milli, -rhs.milli)) }
    public static func += (lhs: inout Scalar, rhs: Scalar) { lhs = lhs + rhs }
    public static func -= (lhs: inout Scalar, rhs: Scalar) { lhs = lhs - rhs }

    private static func saturating(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { return b > 0 ? .max : .min }
        return sum
    }
    public static func < (lhs: Scalar, rhs: Scalar) -> Bool { lhs.milli < rhs.milli }

    /// Formats like Mesos: no trailing zeros, at most three decimals (`0.1`, `2`, `0.125`).
    public var description: String {
        let sign = self.milli < 0 ? "-" : ""
        let magnitude = self.milli.magnitude
        let whole = magnitude / 1000
        var fraction = magnitude % 1000
        if fraction == 0 { return "\(sign)\(whole)" }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var text = String(fraction)
        while text.count < digits { text = "0" + text }
        return "\(sign)\(whole).\(text)"
    }
}
