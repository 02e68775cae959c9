// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Marathon's values on the Core ``JSONWriter``, byte for byte as `JSONSerialization` with `.sortedKeys` and
/// `.withoutEscapingSlashes` writes them (the form Marathon clients have always been sent).
///
/// The read endpoints write their documents with it instead of building `[String: Any]` trees: at 10,000 tasks that
/// path spent its time encoding, re-parsing, casting `Any` and sorting keys with locale-aware string comparison.
/// Objects' fixed keys are written in `.sortedKeys` order by construction; keys that come from users (env, labels)
/// are sorted with ``marathonKeyPrecedes(_:_:)``.
extension JSONWriter {
    /// A string, or `null`.
    mutating func write(orNull value: String?) {
        if let value { self.write(value) } else { self.writeNull() }
    }

    /// A `Double` as `JSONSerialization` writes one: integral values below 1e16 as integers, others as Swift prints
    /// them without a trailing `.0`. Values that are not finite, which JSON cannot hold, are written as `null`.
    mutating func writeNumber(_ value: Double) {
        guard value.isFinite else {
            self.writeNull()
            return
        }
        // Swift prints integral doubles below 1e16 as "<digits>.0", which loses its ".0"; "-0.0" stays "-0".
        if value.rounded(.towardZero) == value, value.magnitude < 1e16, !(value == 0 && value.sign == .minus) {
            self.write(Int(value))
            return
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        self.writeFragment(text.utf8)
    }

    /// A number of an app's `Codable` form (it went through `JSONEncoder` and back): as ``writeNumber(_:)``, and
    /// `0` for `-0.0`.
    mutating func writeEncodedNumber(_ value: Double) {
        self.writeNumber(value == 0 ? 0 : value)
    }

    /// An array, each element written by `write`.
    mutating func writeArray<S: Sequence>(_ elements: S, _ write: (inout JSONWriter, S.Element) -> Void) {
        self.beginArray()
        for element in elements { write(&self, element) }
        self.endArray()
    }

    /// An array of strings.
    mutating func write(strings: [String]) {
        self.writeArray(strings) { $0.write($1) }
    }

    /// An array of integers.
    mutating func write(integers: [Int]) {
        self.writeArray(integers) { $0.write($1) }
    }

    /// A `[String: String]` as an object, its keys in ``marathonKeyPrecedes(_:_:)`` order.
    mutating func writeSortedObject(_ dictionary: [String: String]) {
        self.beginObject()
        let keys =
            dictionary.count > 1 ? dictionary.keys.sorted(by: Self.marathonKeyPrecedes) : Array(dictionary.keys)
        for key in keys {
            self.key(named: key)
            self.write(dictionary[key]!)
        }
        self.endObject()
    }

    /// Writes `key` and the value `write` writes when `value` is present; nothing otherwise (as the synthesized
    /// `Encodable` skips `nil`).
    mutating func field<Value>(_ key: StaticString, ifPresent value: Value?, _ write: (inout JSONWriter, Value) -> Void)
    {
        guard let value else { return }
        self.key(key)
        write(&self, value)
    }

    /// The order `JSONSerialization`'s `.sortedKeys` gives keys on Linux: a numeric, case-insensitive comparison
    /// in the system locale (so `a_b` < `A-b` < `a9` < `a10`).
    static func marathonKeyPrecedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.compare(
            rhs,
            options: [.numeric, .caseInsensitive, .forcedOrdering],
            range: lhs.startIndex..<lhs.endIndex,
            locale: NSLocale.system
        ) == .orderedAscending
    }
}
