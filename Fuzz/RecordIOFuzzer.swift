// SPDX-License-Identifier: Apache-2.0

/// Fuzzing of ``RecordIODecoder`` (`REGATTA_FUZZ_TARGET=recordio`).
///
/// Input: one byte for the maximum record size (1…256, so that limits are hit), one byte per chunk for the chunk
/// sizes, then the stream. The stream is fed in those chunks and, separately, in one piece, and compared with a
/// plain reference reading of the format (`<decimal length>\n<bytes>`).
///
/// - Important: Invariants: nothing traps; the records returned do not depend on how the stream is chunked; they are
///   a prefix of the reference's records, all of them when the stream is valid; a stream the reference reads fully is accepted
///   and the decoder ends at a record boundary iff the stream does; once failed, the decoder stays failed; every
///   record re-framed with ``RecordIO/encode(_:)`` reads back unchanged.
enum RecordIOFuzzer {
    static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzBytes(bytes)
        let maximum = input.choose(256) + 1
        let chunkSeeds = (0..<4).map { _ in input.choose(17) }
        let stream = Array(input.rest())
        let reference = Self.reference(stream, maximum: maximum)

        // Whole stream at once.
        var whole = RecordIODecoder(maximumRecordSize: maximum)
        let wholeResult = Result { try whole.feed(stream) }
        switch (wholeResult, reference.failed) {
        case (.success(let records), false):
            FuzzCheck.require(records == reference.records, "whole: \(records) != reference \(reference.records)")
            FuzzCheck.require(
                whole.isAtRecordBoundary == reference.atBoundary,
                "whole: boundary \(whole.isAtRecordBoundary) != reference \(reference.atBoundary)"
            )
        case (.failure, true):
            // The records of the failing call are dropped with the stream.
            FuzzCheck.require((try? whole.feed([UInt8(ascii: "1")])) == nil, "a failed decoder accepted more bytes")
        default:
            FuzzCheck.fail("whole: decoder \(wholeResult), reference failed: \(reference.failed) for \(stream)")
        }

        // In chunks: the records before the failure are a prefix of the reference's, all of them when it succeeds.
        var chunked = RecordIODecoder(maximumRecordSize: maximum)
        var records: [[UInt8]] = []
        var offset = 0
        var chunk = 0
        var failed = false
        while offset < stream.count {
            let size = max(1, chunkSeeds[chunk % chunkSeeds.count])
            chunk += 1
            let end = min(stream.count, offset + size)
            do {
                records += try chunked.feed(stream[offset..<end])
            } catch {
                failed = true
                break
            }
            offset = end
        }
        FuzzCheck.require(failed == reference.failed, "chunked failed: \(failed), reference: \(reference.failed)")
        FuzzCheck.require(
            records.count <= reference.records.count && Array(reference.records.prefix(records.count)) == records,
            "chunked records \(records) are not a prefix of \(reference.records)"
        )
        if !failed {
            FuzzCheck.require(records == reference.records, "chunked \(records) != reference \(reference.records)")
            FuzzCheck.require(chunked.isAtRecordBoundary == reference.atBoundary, "chunked boundary differs")
        }

        // Re-framing round trip.
        var again = RecordIODecoder(maximumRecordSize: maximum)
        let reframed = records.flatMap { RecordIO.encode($0) }
        FuzzCheck.require((try? again.feed(reframed)) == records, "re-framed records do not read back")
    }

    /// The format read the obvious way: the records up to the end or the first error, and whether there was one.
    private static func reference(
        _ stream: [UInt8],
        maximum: Int
    ) -> (records: [[UInt8]], failed: Bool, atBoundary: Bool) {
        var records: [[UInt8]] = []
        var index = 0
        while index < stream.count {
            var length = 0
            var digits = 0
            while index < stream.count, stream[index] != UInt8(ascii: "\n") {
                let byte = stream[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return (records, true, false) }
                length = length * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard length <= maximum, digits < 20 else { return (records, true, false) }
                index += 1
            }
            guard index < stream.count else { return (records, false, digits == 0) }
            guard digits > 0, length > 0 else { return (records, true, false) }
            index += 1
            guard index + length <= stream.count else { return (records, false, false) }
            records.append(Array(stream[index..<(index + length)]))
            index += length
        }
        return (records, false, true)
    }
}
