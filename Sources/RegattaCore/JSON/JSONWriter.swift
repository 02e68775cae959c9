// SPDX-License-Identifier: Apache-2.0

/// Writes compact JSON into a byte array, each value byte for byte as `JSONEncoder` with `.withoutEscapingSlashes`
/// writes it: no whitespace, strings escaped by ``JSONStringBytes``, doubles as their shortest round-trip text without a
/// trailing `.0`. Keys come in the order they are written (`JSONEncoder`'s key order varies from run to run).
///
/// Keys and values are written in order; commas are placed automatically:
///
/// ```swift
/// writer.beginObject()
/// writer.field("task_id", taskID)
/// writer.field("message", message)  // omitted when nil
/// writer.endObject()
/// ```
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public var bytes: [UInt8]
    private var needsComma = false
    /// Why the output is not valid JSON (a NaN or infinite double, which `JSONEncoder` refuses to encode), if so.
    public private(set) var invalidValue: String?

    /// Creates a writer; `capacity` bytes are reserved up front.
    public init(capacity: Int = 256) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    private mutating func separate() {
        if self.needsComma { self.bytes.append(UInt8(ascii: ",")) }
    }

    @inline(__always)
    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    // MARK: Structure

    /// Writes `{`.
    public mutating func beginObject() {
        self.separate()
        self.bytes.append(UInt8(ascii: "{"))
        self.needsComma = false
    }

    /// Writes `}`.
    public mutating func endObject() {
        self.bytes.append(UInt8(ascii: "}"))
        self.needsComma = true
    }

    /// Writes `[`.
    public mutating func beginArray() {
        self.separate()
        self.bytes.append(UInt8(ascii: "["))
        self.needsComma = false
    }

    /// Writes `]`.
    public mutating func endArray() {
        self.bytes.append(UInt8(ascii: "]"))
        self.needsComma = true
    }

    /// Writes a key and its `:`; write its value next. `key` must need no escaping.
    public mutating func key(_ key: StaticString) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        self.append(key)
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    /// Writes a key that comes from data (an environment variable's name, a label), escaped as a string, and its
    /// `:`; write its value next.
    public mutating func key(named key: String) {
        self.separate()
        JSONStringBytes.append(key, to: &self.bytes)
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    /// Writes a key and its value.
    @inline(__always)
    public mutating func field<T: MesosJSONEncodable>(_ key: StaticString, _ value: T) {
        self.key(key)
        value.writeMesosJSON(into: &self)
    }

    /// Writes a key and its value, or nothing when `value` is nil (as `JSONEncoder` omits nil optionals).
    @inline(__always)
    public mutating func field<T: MesosJSONEncodable>(_ key: StaticString, _ value: T?) {
        guard let value else { return }
        self.key(key)
        value.writeMesosJSON(into: &self)
    }

    // MARK: Values

    /// Writes a string, quoted and escaped.
    public mutating func write(_ string: String) {
        self.separate()
        JSONStringBytes.append(string, to: &self.bytes)
        self.needsComma = true
    }

    /// Writes a string that needs no escaping (an enum's raw value).
    public mutating func writeRaw(_ string: StaticString) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        self.append(string)
        self.bytes.append(UInt8(ascii: "\""))
        self.needsComma = true
    }

    /// Writes `true` or `false`.
    public mutating func write(_ bool: Bool) {
        self.separate()
        if bool { self.append("true") } else { self.append("false") }
        self.needsComma = true
    }

    /// Writes a value that is already JSON text (a number formatted by the caller, a document written before).
    ///
    /// - Important: `json` must be one complete JSON value; it is copied as is.
    public mutating func writeFragment(_ json: some Sequence<UInt8>) {
        self.separate()
        self.bytes.append(contentsOf: json)
        self.needsComma = true
    }

    /// Writes `null`.
    public mutating func writeNull() {
        self.separate()
        self.append("null")
        self.needsComma = true
    }

    /// Writes an integer in decimal.
    public mutating func write<T: FixedWidthInteger>(_ integer: T) {
        self.separate()
        self.appendDecimal(integer)
        self.needsComma = true
    }

    private mutating func appendDecimal<T: FixedWidthInteger>(_ integer: T) {
        if integer < 0 { self.bytes.append(UInt8(ascii: "-")) }
        var magnitude = UInt64(integer.magnitude)
        if magnitude < 10 {
            self.bytes.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for UInt64.max's 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var position = buffer.count
            while magnitude > 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            self.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[position...]))
        }
    }

    /// Writes a double as `JSONEncoder` does: its shortest round-trip text (`0.1`, `1e-05`, `1e+16`) without a
    /// trailing `.0`. A NaN or infinite value is written as `null` and recorded in ``invalidValue``.
    public mutating func write(_ double: Double) {
        self.separate()
        self.needsComma = true
        guard double.isFinite else {
            self.invalidValue = "the double \(double) is not a finite number"
            self.append("null")
            return
        }
        // Integers below 2^53 print as digits in Swift's description, which then ends in ".0".
        if double == double.rounded(.towardZero) && abs(double) < 9_007_199_254_740_992 {
            if double == 0 && double.sign == .minus { self.bytes.append(UInt8(ascii: "-")) }
            self.appendDecimal(Int64(double))
            return
        }
        var text = double.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        self.bytes.append(contentsOf: text.utf8)
    }
}
