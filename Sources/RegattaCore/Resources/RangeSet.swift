// SPDX-License-Identifier: Apache-2.0

/// A closed interval of unsigned integers, `begin...end`, as Mesos's `Value.Range`.
public struct ValueRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public var begin: UInt64
    public var end: UInt64

    public init(begin: UInt64, end: UInt64) {
        precondition(begin <= end, "range begin must not exceed end")
        self.begin = begin
        self.end = end
    }

    /// How many values the range holds (saturating at `UInt64.max` for the full range).
    public var count: UInt64 {
        let span = self.end - self.begin
        return span == UInt64.max ? UInt64.max : span + 1
    }

    private enum CodingKeys: String, CodingKey { case begin, end }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let begin = try container.decode(UInt64.self, forKey: .begin)
        let end = try container.decode(UInt64.self, forKey: .end)
        guard begin <= end else {
            throw DecodingError.dataCorruptedError(
                forKey: .end,
                in: container,
                debugDescription: "range \(begin)-\(end) has begin greater than end"
            )
        }
        self.begin = begin
        self.end = end
    }

    public var description: String { "\(self.begin)-\(self.end)" }
}

/// A set of unsigned integers stored as sorted, disjoint, non-adjacent ranges (ports, for example).
public struct RangeSet: Hashable, Sendable, CustomStringConvertible {
    /// The normalized ranges: sorted, disjoint, never adjacent.
    public private(set) var ranges: [ValueRange]

    /// Creates a set from any ranges; overlapping and adjacent ranges are merged.
    public init(_ ranges: [ValueRange] = []) {
        self.ranges = RangeSet.normalize(ranges)
    }

    /// Creates a set holding the given values.
    public init(values: [UInt64]) {
        self.init(values.map { ValueRange(begin: $0, end: $0) })
    }

    public var isEmpty: Bool { self.ranges.isEmpty }

    /// How many values the set holds.
    public var count: UInt64 {
        self.ranges.reduce(0) { total, range in
            let (sum, overflow) = total.addingReportingOverflow(range.count)
            return overflow ? UInt64.max : sum
        }
    }

    /// Whether `value` is in the set.
    public func contains(_ value: UInt64) -> Bool {
        // Binary search over the sorted ranges.
        var low = 0
        var high = self.ranges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let range = self.ranges[mid]
            if value < range.begin {
                high = mid - 1
            } else if value > range.end {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    /// Whether every value of `other` is in this set.
    public func contains(_ other: RangeSet) -> Bool {
        other.subtracting(self).isEmpty
    }

    /// The union of both sets.
    public func union(_ other: RangeSet) -> RangeSet {
        RangeSet(self.ranges + other.ranges)
    }

    /// The values of this set that are not in `other`.
    public func subtracting(_ other: RangeSet) -> RangeSet {
        var result: [ValueRange] = []
        var otherIndex = 0
        for range in self.ranges {
            var begin = range.begin
            let end = range.end
            var exhausted = false
            while otherIndex < other.ranges.count, other.ranges[otherIndex].end < begin {
                otherIndex += 1
            }
            var index = otherIndex
            while index < other.ranges.count, other.ranges[index].begin <= end {
                let cut = other.ranges[index]
                if cut.begin > begin {
                    result.append(ValueRange(begin: begin, end: cut.begin - 1))
                }
                if cut.end >= end {
                    exhausted = true
                    break
                }
                begin = max(begin, cut.end + 1)
                index += 1
            }
            if !exhausted {
                result.append(ValueRange(begin: begin, end: end))
            }
        }
        var set = RangeSet()
        set.ranges = result
        return set
    }

    /// Up to `count` values from the start of the set, lowest first.
    public func first(_ count: Int) -> [UInt64] {
        var values: [UInt64] = []
        values.reserveCapacity(count)
        for range in self.ranges {
            var value = range.begin
            while value <= range.end {
                if values.count == count { return values }
                values.append(value)
                if value == UInt64.max { break }
                value += 1
            }
        }
        return values
    }

    /// Mesos's text form: `[31000-32000, 33000-33010]`.
    public var description: String {
        "[" + self.ranges.map(\.description).joined(separator: ", ") + "]"
    }

    private static func normalize(_ ranges: [ValueRange]) -> [ValueRange] {
        let sorted = ranges.sorted { $0.begin < $1.begin }
        var result: [ValueRange] = []
        result.reserveCapacity(sorted.count)
        for range in sorted {
            if var last = result.last, last.end == UInt64.max || range.begin <= last.end + 1 {
                last.end = max(last.end, range.end)
                result[result.count - 1] = last
            } else {
                result.append(range)
            }
        }
        return result
    }
}
