// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

/// Shorthand for building range sets in tests: `set((1, 3), (5, 5))`.
private func set(_ pairs: (UInt64, UInt64)...) -> RangeSet {
    RangeSet(pairs.map { ValueRange(begin: $0.0, end: $0.1) })
}

private func pairs(_ set: RangeSet) -> [[UInt64]] {
    set.ranges.map { [$0.begin, $0.end] }
}

@Suite struct RangeSetTests {
    // MARK: normalization

    @Test func mergesOverlappingRanges() {
        #expect(pairs(set((1, 3), (2, 5))) == [[1, 5]])
        #expect(pairs(set((1, 10), (3, 4))) == [[1, 10]])
        #expect(pairs(set((5, 5), (5, 5))) == [[5, 5]])
    }

    @Test func mergesAdjacentRanges() {
        #expect(pairs(set((1, 3), (4, 6))) == [[1, 6]])
        #expect(pairs(RangeSet(values: [7, 8, 9, 11])) == [[7, 9], [11, 11]])
    }

    @Test func sortsUnsortedRanges() {
        #expect(pairs(set((10, 12), (1, 2), (5, 6))) == [[1, 2], [5, 6], [10, 12]])
        #expect(pairs(set((10, 12), (1, 2), (3, 9))) == [[1, 12]])
    }

    @Test func handlesTheTopOfTheValueSpace() {
        let top = set((UInt64.max - 1, UInt64.max), (5, 6), (UInt64.max, UInt64.max))
        #expect(pairs(top) == [[5, 6], [UInt64.max - 1, UInt64.max]])
        #expect(top.contains(UInt64.max))
        #expect(top.count == 4)
    }

    @Test func emptySet() {
        let empty = RangeSet()
        #expect(empty.isEmpty)
        #expect(empty.count == 0)
        #expect(!empty.contains(0))
        #expect(empty.first(3) == [])
        #expect(empty.description == "[]")
    }

    // MARK: subtracting

    @Test func subtractingCutAtBegin() {
        #expect(pairs(set((10, 20)).subtracting(set((10, 12)))) == [[13, 20]])
        #expect(pairs(set((10, 20)).subtracting(set((5, 10)))) == [[11, 20]])
    }

    @Test func subtractingCutAtEnd() {
        #expect(pairs(set((10, 20)).subtracting(set((18, 20)))) == [[10, 17]])
        #expect(pairs(set((10, 20)).subtracting(set((20, 30)))) == [[10, 19]])
    }

    @Test func subtractingCutInTheMiddle() {
        #expect(pairs(set((10, 20)).subtracting(set((14, 15)))) == [[10, 13], [16, 20]])
        #expect(pairs(set((10, 20)).subtracting(set((12, 12), (15, 15)))) == [[10, 11], [13, 14], [16, 20]])
    }

    @Test func subtractingTheWholeRange() {
        #expect(set((10, 20)).subtracting(set((10, 20))).isEmpty)
        #expect(set((10, 20)).subtracting(set((0, 100))).isEmpty)
        #expect(set((1, 2), (5, 6)).subtracting(set((1, 6))).isEmpty)
    }

    @Test func subtractingDisjointRangesChangesNothing() {
        #expect(pairs(set((10, 20)).subtracting(set((30, 40)))) == [[10, 20]])
        #expect(pairs(set((10, 20)).subtracting(set((0, 9)))) == [[10, 20]])
        #expect(pairs(set((10, 20)).subtracting(set((21, 21)))) == [[10, 20]])
        #expect(pairs(set((10, 20)).subtracting(RangeSet())) == [[10, 20]])
        #expect(RangeSet().subtracting(set((1, 2))).isEmpty)
    }

    @Test func subtractingACutThatSpansTwoRanges() {
        #expect(pairs(set((1, 5), (10, 15)).subtracting(set((4, 11)))) == [[1, 3], [12, 15]])
        let three = set((1, 5), (10, 15), (20, 25))
        #expect(pairs(three.subtracting(set((3, 3), (12, 21)))) == [[1, 2], [4, 5], [10, 11], [22, 25]])
    }

    @Test func subtractingAtTheTopOfTheValueSpace() {
        let top = set((UInt64.max - 5, UInt64.max))
        #expect(pairs(top.subtracting(set((UInt64.max, UInt64.max)))) == [[UInt64.max - 5, UInt64.max - 1]])
        #expect(pairs(top.subtracting(set((UInt64.max - 5, UInt64.max - 5)))) == [[UInt64.max - 4, UInt64.max]])
        #expect(top.subtracting(set((0, UInt64.max))).isEmpty)
    }

    @Test func subtractionResultIsNormalized() {
        // A result must equal the same values built from scratch, or `==` on resources breaks.
        let result = set((1, 10)).subtracting(set((3, 4), (6, 7)))
        #expect(result == RangeSet(values: [1, 2, 5, 8, 9, 10]))
    }

    // MARK: contains

    @Test func containsValues() {
        let ports = set((31000, 31005), (31010, 31010), (32000, 32100))
        for value: UInt64 in [31000, 31003, 31005, 31010, 32000, 32050, 32100] {
            #expect(ports.contains(value), "\(value)")
        }
        for value: UInt64 in [0, 30999, 31006, 31009, 31011, 31999, 32101, UInt64.max] {
            #expect(!ports.contains(value), "\(value)")
        }
    }

    @Test func containsSets() {
        let ports = set((31000, 31005), (32000, 32100))
        #expect(ports.contains(set((31001, 31002), (32050, 32050))))
        #expect(ports.contains(RangeSet()))
        #expect(ports.contains(ports))
        #expect(!ports.contains(set((31005, 31006))))
        #expect(!ports.contains(set((31000, 32100))))
    }

    // MARK: first, union, count, description

    @Test func firstTakesLowestValuesAcrossRanges() {
        let ports = set((31000, 31002), (31005, 31010))
        #expect(ports.first(5) == [31000, 31001, 31002, 31005, 31006])
        #expect(ports.first(0) == [])
        #expect(ports.first(1) == [31000])
        #expect(ports.first(100).count == 9)
        #expect(set((UInt64.max, UInt64.max)).first(2) == [UInt64.max])
    }

    @Test func unionAndCount() {
        let union = set((1, 3)).union(set((4, 4), (10, 11)))
        #expect(pairs(union) == [[1, 4], [10, 11]])
        #expect(union.count == 6)
        #expect(set((31000, 32000)).count == 1001)
    }

    @Test func describesLikeMesos() {
        #expect(set((31000, 32000)).description == "[31000-32000]")
        #expect(set((33000, 33010), (31000, 32000)).description == "[31000-32000, 33000-33010]")
        #expect(set((80, 80)).description == "[80-80]")
    }
}
