// SPDX-License-Identifier: Apache-2.0

/// The keys of one JSON object type: an enum whose raw values are the wire names (`case taskId = "task_id"`).
///
/// At most 64 cases: ``JSONReader`` tracks the keys seen in one object in a 64-bit mask.
public protocol JSONField: RawRepresentable<String>, CaseIterable, Sendable {}

/// A lookup table from key bytes to ``JSONField`` cases, built once per type (keep it in a `static let`).
public struct JSONFieldTable<Field: JSONField>: Sendable {
    /// Every key's UTF-8 bytes one after another; `ranges[i]` locates case `i`.
    private let keyBytes: [UInt8]
    private let ranges: [(start: Int, count: Int)]
    private let fields: [Field]

    public init() {
        var keyBytes: [UInt8] = []
        var ranges: [(start: Int, count: Int)] = []
        let fields = Array(Field.allCases)
        precondition(fields.count <= 64, "a JSONField enum has at most 64 cases")
        for field in fields {
            ranges.append((keyBytes.count, field.rawValue.utf8.count))
            keyBytes.append(contentsOf: field.rawValue.utf8)
        }
        self.keyBytes = keyBytes
        self.ranges = ranges
        self.fields = fields
    }

    /// The field named by `key` and its bit in a seen-keys mask, or nil for an unknown key.
    @inline(__always)
    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> (field: Field, bit: UInt64)? {
        let count = key.count
        guard count > 0, let first = key.baseAddress else { return nil }
        return self.keyBytes.withUnsafeBufferPointer { table in
            for index in 0..<self.ranges.count {
                let range = self.ranges[index]
                guard range.count == count, table[range.start] == first[0] else { continue }
                var equal = true
                for offset in 1..<max(count, 1) where table[range.start + offset] != first[offset] {
                    equal = false
                    break
                }
                if equal { return (self.fields[index], 1 << UInt64(index)) }
            }
            return nil
        }
    }
}
