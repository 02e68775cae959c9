// SPDX-License-Identifier: Apache-2.0
import NIOCore

/// Reads a multiplexed logs stream requested with `timestamps=1`: hands on each message's output without the
/// timestamp Docker put in front of it, skips messages stamped at or before a resume point, and tracks the
/// timestamp of the last message handed on whole — where a later copy resumes.
struct DockerTimestampedLogReader {
    private var demultiplexer = DockerLogDemultiplexer()
    /// The bytes of the current message's timestamp read so far, while still reading it.
    private var prefix: [UInt8] = []
    private var inPrefix = false
    private var skipping = false
    private var current: DockerLogTimestamp?
    /// Messages stamped at or before this are skipped; `nil` keeps all.
    let resumeAfter: DockerLogTimestamp?
    /// The timestamp of the last message whose output was handed on whole; `nil` until one was.
    private(set) var lastCopied: DockerLogTimestamp?

    /// Creates a reader positioned at the start of a stream.
    init(resumingAfter resumeAfter: DockerLogTimestamp?) {
        self.resumeAfter = resumeAfter
    }

    /// Consumes the next bytes of the stream and returns the output pieces they complete, in order.
    ///
    /// - Throws: `AgentError.protocolViolation` when a frame header names an unknown stream type.
    mutating func consume(_ bytes: ByteBuffer) throws -> [(stream: DockerLogStream, payload: ByteBuffer)] {
        var output: [(stream: DockerLogStream, payload: ByteBuffer)] = []
        for piece in try self.demultiplexer.consumeFrames(bytes) {
            var payload = piece.payload
            if piece.startsFrame {
                self.inPrefix = true
                self.prefix.removeAll(keepingCapacity: true)
                self.current = nil
                self.skipping = false
            }
            if self.inPrefix {
                let view = payload.readableBytesView
                if let space = view.firstIndex(of: UInt8(ascii: " ")) {
                    self.prefix.append(contentsOf: view[view.startIndex..<space])
                    payload.moveReaderIndex(forwardBy: space - view.startIndex + 1)
                    self.inPrefix = false
                    if let timestamp = DockerLogTimestamp(rfc3339: self.prefix) {
                        self.current = timestamp
                        self.skipping = self.resumeAfter.map { timestamp <= $0 } ?? false
                    } else {
                        // Not stamped after all (Docker's own messages may not be): keep the bytes as output.
                        output.append((piece.stream, ByteBuffer(bytes: self.prefix + [UInt8(ascii: " ")])))
                    }
                } else if self.prefix.count + view.count > 64 || piece.endsFrame {
                    // Far longer than any timestamp, or a message that ends before one: output, not a timestamp.
                    self.inPrefix = false
                    output.append((piece.stream, ByteBuffer(bytes: self.prefix)))
                    self.prefix.removeAll(keepingCapacity: true)
                } else {
                    self.prefix.append(contentsOf: view)
                    continue
                }
            }
            if !self.skipping, payload.readableBytes > 0 {
                output.append((piece.stream, payload))
            }
            if piece.endsFrame, !self.skipping, let current = self.current {
                self.lastCopied = max(current, self.lastCopied ?? current)
            }
        }
        return output
    }
}
