// SPDX-License-Identifier: Apache-2.0
import NIOCore

/// The stream a piece of container output belongs to.
public enum DockerLogStream: UInt8, Sendable, Hashable {
    /// Input echoed back; Docker's own client writes it to stdout.
    case stdin = 0
    /// The container's standard output.
    case stdout = 1
    /// The container's standard error.
    case stderr = 2
    /// An error from Docker itself rather than the container (API 1.42 and later).
    case system = 3
}

/// Splits Docker's multiplexed log stream into stdout and stderr.
///
/// Without a TTY, `GET /containers/{id}/logs` and `attach` send frames of an 8-byte header — the stream type
/// (0 stdin, 1 stdout, 2 stderr, 3 system), three zero bytes and the payload length as a big-endian `UInt32` —
/// followed by that many payload bytes. Frame boundaries are unrelated to HTTP chunk boundaries. The
/// demultiplexer keeps only the pending header bytes between calls and hands payload on as soon as it arrives,
/// so one large frame is never buffered whole.
public struct DockerLogDemultiplexer: Sendable {
    private var header: [UInt8] = []
    private var stream: DockerLogStream = .stdout
    private var remaining = 0
    private var frameLength = 0

    /// Creates a demultiplexer positioned at the start of a frame.
    public init() {}

    /// Whether all bytes consumed so far form complete frames, so the stream may end here.
    public var isAtFrameBoundary: Bool { self.header.isEmpty && self.remaining == 0 }

    /// Consumes the next bytes of the stream and returns the payload pieces they complete, in order.
    ///
    /// Adjacent pieces of the same stream are not merged; empty frames yield nothing.
    /// - Throws: `AgentError.protocolViolation` when a header names an unknown stream type.
    public mutating func consume(_ bytes: ByteBuffer) throws -> [(stream: DockerLogStream, payload: ByteBuffer)] {
        try self.consumeFrames(bytes).map { ($0.stream, $0.payload) }
    }

    /// A piece of one frame's payload, and where it lies in its frame.
    struct Piece {
        var stream: DockerLogStream
        var payload: ByteBuffer
        /// Whether the piece is the first of its frame.
        var startsFrame: Bool
        /// Whether the piece is the last of its frame.
        var endsFrame: Bool
    }

    /// Like ``consume(_:)``, but tells where each piece lies in its frame (one frame is one log message).
    mutating func consumeFrames(_ bytes: ByteBuffer) throws -> [Piece] {
        var input = bytes
        var pieces: [Piece] = []
        while input.readableBytes > 0 {
            if self.remaining > 0 {
                let count = min(self.remaining, input.readableBytes)
                let starts = self.remaining == self.frameLength
                // readSlice cannot fail: count <= readableBytes.
                if let slice = input.readSlice(length: count) {
                    pieces.append(
                        Piece(
                            stream: self.stream,
                            payload: slice,
                            startsFrame: starts,
                            endsFrame: count == self.remaining
                        )
                    )
                }
                self.remaining -= count
                continue
            }
            let needed = 8 - self.header.count
            let count = min(needed, input.readableBytes)
            self.header.append(contentsOf: input.readBytes(length: count) ?? [])
            guard self.header.count == 8 else { continue }
            guard let stream = DockerLogStream(rawValue: self.header[0]) else {
                let type = self.header[0]
                self.header.removeAll()
                throw AgentError(
                    .protocolViolation,
                    "Docker sent a log frame of unknown stream type \(type); the container may have a TTY, whose "
                        + "logs are not multiplexed."
                )
            }
            self.stream = stream
            self.remaining =
                Int(self.header[4]) << 24 | Int(self.header[5]) << 16 | Int(self.header[6]) << 8 | Int(self.header[7])
            self.frameLength = self.remaining
            self.header.removeAll(keepingCapacity: true)
        }
        return pieces
    }
}
