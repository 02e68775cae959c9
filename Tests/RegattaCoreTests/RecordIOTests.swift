// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

@Suite struct RecordIOTests {
    private static let records: [[UInt8]] = [
        Array(#"{"type":"HEARTBEAT"}"#.utf8),
        Array("x".utf8),
        Array(repeating: UInt8(ascii: "a"), count: 123),
        Array("\n\n12\n".utf8),  // bodies may hold newlines and digits
    ]

    private static var stream: [UInt8] { self.records.flatMap { RecordIO.encode($0) } }

    @Test func encodesLengthNewlineBytes() {
        #expect(RecordIO.encode(Array("hello".utf8)) == Array("5\nhello".utf8))
        #expect(RecordIO.encode(Array(repeating: UInt8(0), count: 10)).prefix(3) == [0x31, 0x30, 0x0A])
    }

    @Test func decodesManyRecordsInOneChunk() throws {
        // Given
        var decoder = RecordIODecoder()
        // When
        let decoded = try decoder.feed(Self.stream)
        // Then
        #expect(decoded == Self.records)
        #expect(decoder.isAtRecordBoundary)
        #expect(try decoder.feed([]) == [])
    }

    @Test func decodesRecordsSplitAtEveryBytePosition() throws {
        let stream = Self.stream
        for split in 0...stream.count {
            var decoder = RecordIODecoder()
            var decoded = try decoder.feed(stream[..<split])
            decoded += try decoder.feed(stream[split...])
            #expect(decoded == Self.records, "split at \(split)")
            #expect(decoder.isAtRecordBoundary)
        }
    }

    @Test func decodesRecordsSplitAtEveryPairOfPositions() throws {
        let stream = Array(Self.stream.prefix(40))  // the first two records plus part of the third
        for first in 0...stream.count {
            for second in first...stream.count {
                var decoder = RecordIODecoder()
                var decoded = try decoder.feed(stream[..<first])
                decoded += try decoder.feed(stream[first..<second])
                decoded += try decoder.feed(stream[second...])
                #expect(decoded == Array(Self.records.prefix(2)), "splits at \(first), \(second)")
            }
        }
    }

    @Test func decodesOneByteAtATime() throws {
        var decoder = RecordIODecoder()
        var decoded: [[UInt8]] = []
        for byte in Self.stream {
            decoded += try decoder.feed([byte])
        }
        #expect(decoded == Self.records)
    }

    @Test func returnsEachRecordOnlyOnce() throws {
        var decoder = RecordIODecoder()
        #expect(try decoder.feed(Array("1\na1\nb".utf8)) == [[UInt8(ascii: "a")], [UInt8(ascii: "b")]])
        #expect(try decoder.feed(Array("1\nc".utf8)) == [[UInt8(ascii: "c")]])
    }

    @Test func tracksRecordBoundaries() throws {
        var decoder = RecordIODecoder()
        #expect(decoder.isAtRecordBoundary)
        _ = try decoder.feed(Array("3".utf8))
        #expect(!decoder.isAtRecordBoundary)
        _ = try decoder.feed(Array("\n".utf8))
        #expect(!decoder.isAtRecordBoundary)
        _ = try decoder.feed(Array("ab".utf8))
        #expect(!decoder.isAtRecordBoundary)
        #expect(try decoder.feed(Array("c".utf8)) == [Array("abc".utf8)])
        #expect(decoder.isAtRecordBoundary)
    }

    @Test func rejectsAZeroLength() {
        var decoder = RecordIODecoder()
        let error = #expect(throws: CoreError.self) { try decoder.feed(Array("0\n".utf8)) }
        #expect(error?.code == .invalidRecordIO)
        #expect(error?.message.contains("length 0") == true)
    }

    @Test func rejectsAHeaderWithoutDigits() {
        var decoder = RecordIODecoder()
        let error = #expect(throws: CoreError.self) { try decoder.feed(Array("\n{}".utf8)) }
        #expect(error?.code == .invalidRecordIO)
    }

    @Test(arguments: ["1a\nx", "-1\nx", " 1\nx", "{\"type\":\"HEARTBEAT\"}", "1\r\nx"])
    func rejectsANonDigitInTheHeader(text: String) {
        var decoder = RecordIODecoder()
        let error = #expect(throws: CoreError.self) { try decoder.feed(Array(text.utf8)) }
        #expect(error?.code == .invalidRecordIO)
        #expect(error?.message.contains("not a decimal digit") == true)
    }

    @Test func rejectsAnOverMaximumLengthBeforeTheBody() throws {
        // Given a decoder that accepts at most 16 bytes
        var decoder = RecordIODecoder(maximumRecordSize: 16)
        #expect(try decoder.feed(Array("16\n0123456789abcdef".utf8)).count == 1)
        // When only the header of a larger record has arrived, it already fails: nothing is buffered
        let error = #expect(throws: CoreError.self) { try decoder.feed(Array("17".utf8)) }
        // Then
        #expect(error?.code == .invalidRecordIO)
        #expect(error?.message.contains("16") == true)
    }

    @Test func rejectsAHugeLengthWithTheDefaultMaximum() {
        var decoder = RecordIODecoder()
        #expect(decoder.maximumRecordSize == 64 << 20)
        #expect(throws: CoreError.self) { try decoder.feed(Array("99999999999999999999999".utf8)) }
        var exact = RecordIODecoder()
        #expect(throws: Never.self) { try exact.feed(Array(String(64 << 20).utf8)) }
        #expect(throws: CoreError.self) { try exact.feed(Array("0".utf8)) }
    }

    @Test func staysFailedAfterAnError() {
        // Given
        var decoder = RecordIODecoder()
        let first = #expect(throws: CoreError.self) { try decoder.feed(Array("x".utf8)) }
        // When valid input follows
        let second = #expect(throws: CoreError.self) { try decoder.feed(Array("2\nhi".utf8)) }
        let third = #expect(throws: CoreError.self) { try decoder.feed([]) }
        // Then
        #expect(first != nil)
        #expect(second == first)
        #expect(third == first)
        #expect(!decoder.isAtRecordBoundary)
    }
}
