// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Writes JSON bytes directly, with the same bytes `MarathonJSON.data` (`JSONSerialization` with `.sortedKeys` and
/// `.withoutEscapingSlashes`) produces for the same document.
///
/// The read endpoints (`/v2/apps`, `/v2/tasks`) write their AppInfo and Task documents with it instead of building
/// `[String: Any]` trees: at 10,000 tasks that path spent its time encoding, re-parsing, casting `Any` and sorting
/// keys with locale-aware string comparison.
struct MarathonJSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1 << 16) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Appends bytes that are already JSON.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    /// Appends one ASCII character.
    mutating func character(_ character: Unicode.Scalar) {
        self.bytes.append(UInt8(ascii: character))
    }

    /// A JSON string, escaped as `JSONSerialization` escapes it (slashes left alone).
    mutating func string(_ value: String) {
        JSONStringBytes.append(value, to: &self.bytes)
    }

    /// A string or `null`.
    mutating func string(_ value: String?) {
        if let value { self.string(value) } else { self.raw("null") }
    }

    mutating func number(_ value: Int) {
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// A number that `MarathonJSON.object` passed through `JSONEncoder` and back: integral values as integers
    /// (`128`, and `0` for `-0.0`), others as Swift prints them (`0.01`, `1e-07`).
    mutating func encodedNumber(_ value: Double) {
        if value == 0 {
            self.bytes.append(UInt8(ascii: "0"))
            return
        }
        self.number(value)
    }

    /// A `Double` as `JSONSerialization` writes one: Swift's description without a trailing `.0`. Not finite
    /// values, which JSON cannot hold, are written as `null`.
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            self.raw("null")
            return
        }
        // Swift prints integral doubles below 1e16 as "<digits>.0", which loses its ".0"; "-0.0" stays "-0".
        if value.rounded(.towardZero) == value, value.magnitude < 1e16, !(value == 0 && value.sign == .minus) {
            self.number(Int(value))
            return
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        self.bytes.append(contentsOf: text.utf8)
    }

    mutating func bool(_ value: Bool) {
        if value { self.raw("true") } else { self.raw("false") }
    }

    /// Writes `"key":`, preceded by a comma unless it is the object's first key.
    mutating func key(_ key: StaticString, first: Bool = false) {
        if !first { self.bytes.append(UInt8(ascii: ",")) }
        self.bytes.append(UInt8(ascii: "\""))
        self.raw(key)
        self.raw("\":")
    }

    /// Writes `"name":` for a key known to need no escaping, preceded by a comma unless it is the object's first.
    mutating func field(_ name: String, first: inout Bool) {
        if first {
            first = false
        } else {
            self.character(",")
        }
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: name.utf8)
        self.raw("\":")
    }

    /// An array, each element written by `write`.
    mutating func array<S: Sequence>(_ elements: S, _ write: (inout MarathonJSONWriter, S.Element) -> Void) {
        self.bytes.append(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { self.bytes.append(UInt8(ascii: ",")) }
            first = false
            write(&self, element)
        }
        self.bytes.append(UInt8(ascii: "]"))
    }

    mutating func strings(_ elements: [String]) {
        self.array(elements) { writer, element in writer.string(element) }
    }

    mutating func numbers(_ elements: [Int]) {
        self.array(elements) { writer, element in writer.number(element) }
    }

    /// A `[String: String]` as an object, its keys in ``keyPrecedes(_:_:)`` order.
    mutating func object(_ dictionary: [String: String]) {
        self.bytes.append(UInt8(ascii: "{"))
        let keys = dictionary.count > 1 ? dictionary.keys.sorted(by: Self.keyPrecedes) : Array(dictionary.keys)
        for (index, key) in keys.enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.string(key)
            self.bytes.append(UInt8(ascii: ":"))
            self.string(dictionary[key]!)
        }
        self.bytes.append(UInt8(ascii: "}"))
    }

    /// The order `JSONSerialization`'s `.sortedKeys` gives keys on Linux: a numeric, case-insensitive comparison
    /// in the system locale (so `a_b` < `A-b` < `a9` < `a10`). Only keys that come from users (env, labels) are
    /// sorted at run time; the documents' fixed keys are written in this order by construction.
    static func keyPrecedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.compare(
            rhs, options: [.numeric, .caseInsensitive, .forcedOrdering], range: lhs.startIndex..<lhs.endIndex,
            locale: NSLocale.system) == .orderedAscending
    }
}
