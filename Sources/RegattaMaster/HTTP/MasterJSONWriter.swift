// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// A value ``MasterJSONWriter`` writes directly, with the same bytes `JSONEncoder` (`.sortedKeys`,
/// `.withoutEscapingSlashes`) would produce for its `Encodable` form.
protocol MasterJSONWritable: Encodable {
    func write(to writer: inout MasterJSONWriter) throws
}

/// Writes JSON into a byte buffer without `Encoder` containers: strings escaped as `JSONEncoder` does (`"`, `\`
/// and control characters; `/` left alone), doubles as `description` without a trailing `.0`, object keys written
/// by the caller in sorted order (dictionaries are sorted here).
struct MasterJSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1 << 16) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Appends JSON written earlier.
    mutating func json(_ bytes: [UInt8]) {
        self.bytes.append(contentsOf: bytes)
    }

    /// Mesos labels: `[{"key":…,"value":…}]`, `value` left out when absent (as `JSONEncoder` writes them).
    mutating func labels(_ labels: [Labels.Label]) {
        self.array(labels) { writer, label in
            writer.raw("{")
            writer.key("key", first: true)
            writer.string(label.key)
            if let value = label.value {
                writer.key("value")
                writer.string(value)
            }
            writer.raw("}")
        }
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        JSONStringBytes.append(value, to: &self.bytes)
    }

    mutating func number(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: [], debugDescription: "Unable to encode \(value) directly in JSON.")
            )
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        self.bytes.append(contentsOf: text.utf8)
    }

    mutating func number(_ value: Int) {
        self.bytes.append(contentsOf: String(value).utf8)
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

    mutating func array<Element>(
        _ elements: [Element],
        _ write: (inout MasterJSONWriter, Element) throws -> Void
    )
        rethrows
    {
        self.bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            try write(&self, element)
        }
        self.bytes.append(UInt8(ascii: "]"))
    }

    mutating func array(_ elements: [some MasterJSONWritable]) throws {
        try self.array(elements) { writer, element in try element.write(to: &writer) }
    }

    mutating func strings(_ elements: [String]) {
        self.array(elements) { writer, element in writer.string(element) }
    }

    /// A dictionary as an object with its keys sorted as `JSONEncoder` sorts them (by Unicode scalars).
    mutating func object<Value>(
        _ dictionary: [String: Value],
        _ write: (inout MasterJSONWriter, Value) throws -> Void
    )
        rethrows
    {
        self.bytes.append(UInt8(ascii: "{"))
        for (index, key) in dictionary.keys.sorted(by: Self.keyOrder).enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.string(key)
            self.bytes.append(UInt8(ascii: ":"))
            try write(&self, dictionary[key]!)
        }
        self.bytes.append(UInt8(ascii: "}"))
    }

    mutating func resources(_ dictionary: [String: FlatResourceValue]) throws {
        try self.object(dictionary) { writer, value in
            switch value {
            case .number(let number): try writer.number(number)
            case .text(let text): writer.string(text)
            }
        }
    }

    /// Anything else through `JSONEncoder` (small values: the leader's info, labels).
    mutating func encodable(_ value: some Encodable) throws {
        self.bytes.append(contentsOf: try MasterStateView.foundationEncode(value))
    }

    /// `JSONEncoder`'s `.sortedKeys` order: Unicode scalar values, which for UTF-8 is byte order.
    static func keyOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
