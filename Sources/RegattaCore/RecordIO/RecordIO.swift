// SPDX-License-Identifier: Apache-2.0

/// Mesos's RecordIO framing: each record is `<decimal length>\n<bytes>`.
public enum RecordIO {
    /// Frames one record.
    public static func encode(_ record: some Collection<UInt8>) -> [UInt8] {
        var framed = Array(String(record.count).utf8)
        framed.reserveCapacity(framed.count + 1 + record.count)
        framed.append(UInt8(ascii: "\n"))
        framed.append(contentsOf: record)
        return framed
    }
}

/// An incremental RecordIO decoder: feed it chunks as they arrive, take out whole records.
///
/// Record boundaries are independent of chunk boundaries: a record may span many chunks, and one
/// chunk may hold many records.
/// - Important: A malformed length prefix or a record larger than `maximumRecordSize` throws
///   `CoreError.invalidRecordIO`; after that the decoder stays failed and the stream must be dropped.
public struct RecordIODecoder: Sendable {
    private enum State: Sendable {
        case length(digits: Int, value: UInt64)
        case body(remaining: Int)
        case failed(CoreError)
    }

    /// The largest record accepted, in bytes. Defaults to 64 MiB.
    public let maximumRecordSize: Int
    private var state: State = .length(digits: 0, value: 0)
    private var current: [UInt8] = []
    private var records: [[UInt8]] = []

    public init(maximumRecordSize: Int = 64 << 20) {
        self.maximumRecordSize = maximumRecordSize
    }

    /// Feeds bytes and returns every record completed by them, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [[UInt8]] {
        if case .failed(let error) = self.state { throw error }
        for byte in bytes {
            switch self.state {
            case .failed(let error):
                throw error
            case .length(let digits, let value):
                if byte == UInt8(ascii: "\n") {
                    guard digits > 0 else { return try self.fail("a record header has no length digits") }
                    guard value > 0 else { return try self.fail("a record has length 0; lengths must be positive") }
                    self.state = .body(remaining: Int(value))
                    self.current.reserveCapacity(Int(value))
                } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    let next = value * 10 + UInt64(byte - UInt8(ascii: "0"))
                    guard digits < 19, next <= UInt64(self.maximumRecordSize) else {
                        return try self.fail(
                            "a record is longer than the maximum of \(self.maximumRecordSize) bytes"
                        )
                    }
                    self.state = .length(digits: digits + 1, value: next)
                } else {
                    return try self.fail("a record header holds byte \(byte), not a decimal digit")
                }
            case .body(let remaining):
                self.current.append(byte)
                if remaining == 1 {
                    self.records.append(self.current)
                    self.current = []
                    self.state = .length(digits: 0, value: 0)
                } else {
                    self.state = .body(remaining: remaining - 1)
                }
            }
        }
        defer { self.records = [] }
        return self.records
    }

    /// Whether the decoder is between records (no partial record buffered).
    public var isAtRecordBoundary: Bool {
        if case .length(let digits, _) = self.state { return digits == 0 }
        return false
    }

    private mutating func fail(_ message: String) throws -> [[UInt8]] {
        let error = CoreError(.invalidRecordIO, "Invalid RecordIO stream: \(message).")
        self.state = .failed(error)
        self.current = []
        self.records = []
        throw error
    }
}
