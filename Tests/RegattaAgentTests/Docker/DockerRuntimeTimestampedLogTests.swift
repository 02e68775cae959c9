// SPDX-License-Identifier: Apache-2.0
import Foundation
import NIOCore
import Testing

@testable import RegattaAgent

/// ``DockerLogTimestamp`` and ``DockerTimestampedLogReader`` against hand-built `timestamps=1` streams (no Docker
/// needed): resuming a copy strictly after the last message copied, even when the next one has the same second.
@Suite struct DockerRuntimeTimestampedLogTests {
    private func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let size = UInt32(payload.count)
        return [
            stream, 0, 0, 0, UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff),
        ]
            + payload
    }

    /// Feeds `bytes` in chunks of `chunkSize` and joins the output per stream.
    private func read(
        _ bytes: [UInt8],
        chunkSize: Int,
        after: DockerLogTimestamp?
    ) throws -> (stdout: String, stderr: String, last: DockerLogTimestamp?) {
        var reader = DockerTimestampedLogReader(resumingAfter: after)
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var start = 0
        while start < bytes.count {
            let chunk = Array(bytes[start..<min(start + chunkSize, bytes.count)])
            start += chunkSize
            for piece in try reader.consume(ByteBuffer(bytes: chunk)) {
                switch piece.stream {
                case .stdout, .stdin: stdout += piece.payload.readableBytesView
                case .stderr, .system: stderr += piece.payload.readableBytesView
                }
            }
        }
        return (String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self), reader.lastCopied)
    }

    @Test func parsesDockersTimestampsToTheNanosecond() throws {
        let stamp = try #require(DockerLogTimestamp(rfc3339: Array("2026-11-22T02:14:47.123456789Z".utf8)))
        #expect(stamp == DockerLogTimestamp(seconds: 1_795_313_687, nanoseconds: 123_456_789))
        #expect(stamp.sinceArgument == "1795313687.123456789")
        #expect(DockerLogTimestamp(sinceArgument: "  1795313687.123456789\n") == stamp)
        // Shorter fractions, offsets and no fraction
        #expect(
            DockerLogTimestamp(rfc3339: Array("2026-11-22T02:14:47.5Z".utf8))
                == DockerLogTimestamp(seconds: 1_795_313_687, nanoseconds: 500_000_000)
        )
        #expect(
            DockerLogTimestamp(rfc3339: Array("2026-11-22T03:14:47+01:00".utf8))
                == DockerLogTimestamp(seconds: 1_795_313_687, nanoseconds: 0)
        )
        #expect(DockerLogTimestamp(seconds: 5, nanoseconds: 7).sinceArgument == "5.000000007")
        // Not timestamps
        #expect(DockerLogTimestamp(rfc3339: Array("hello world".utf8)) == nil)
        #expect(DockerLogTimestamp(rfc3339: Array("2026-11-22T02:14:47.123".utf8)) == nil)
        #expect(DockerLogTimestamp(sinceArgument: "1795313687.5") == nil)
        // Ordered by time
        #expect(DockerLogTimestamp(seconds: 1, nanoseconds: 999) < DockerLogTimestamp(seconds: 2, nanoseconds: 0))
    }

    @Test func stripsTimestampsWhateverTheChunking() throws {
        // Given three messages on two streams
        let stream =
            self.frame(1, "2026-11-22T02:14:47.000000001Z started\n")
            + self.frame(2, "2026-11-22T02:14:47.000000002Z warning\n")
            + self.frame(1, "2026-11-22T02:14:48.000000000Z done\n")
        // When it arrives whole or in pieces as small as one byte
        for chunkSize in [1, 3, 7, 40, stream.count] {
            let output = try self.read(stream, chunkSize: chunkSize, after: nil)
            // Then the output has no timestamps, and the last copied message is the last one
            #expect(output.stdout == "started\ndone\n", "chunks of \(chunkSize)")
            #expect(output.stderr == "warning\n", "chunks of \(chunkSize)")
            #expect(output.last == DockerLogTimestamp(seconds: 1_795_313_688, nanoseconds: 0))
        }
    }

    @Test func resumesStrictlyAfterTheLastCopiedMessage() throws {
        // Given Docker's answer to `since=<last copied>`, which is inclusive: it starts with the last message copied
        let stream =
            self.frame(1, "2026-11-22T02:14:47.000000001Z started\n")
            + self.frame(1, "2026-11-22T02:14:47.000000002Z got-term\n")
        let after = DockerLogTimestamp(seconds: 1_795_313_687, nanoseconds: 1)
        for chunkSize in [1, 5, stream.count] {
            // When it is read resuming after that message
            let output = try self.read(stream, chunkSize: chunkSize, after: after)
            // Then only what came after it is copied, although it was logged in the same second
            #expect(output.stdout == "got-term\n", "chunks of \(chunkSize)")
            #expect(output.last == DockerLogTimestamp(seconds: 1_795_313_687, nanoseconds: 2))
        }
        // And with nothing new, nothing is copied and the position stays
        let same = try self.read(self.frame(1, "2026-11-22T02:14:47.000000001Z started\n"), chunkSize: 4, after: after)
        #expect(same.stdout.isEmpty)
        #expect(same.last == nil)
    }

    @Test func keepsAMessageWithoutATimestampAsOutput() throws {
        let output = try self.read(self.frame(3, "error from the daemon\n"), chunkSize: 6, after: nil)
        #expect(output.stderr == "error from the daemon\n")
        #expect(output.last == nil)
    }

    @Test func recordsThePositionInTheSandbox() throws {
        let sandbox = NSTemporaryDirectory() + "regatta-position-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        #expect(DockerLogPosition.read(sandbox: sandbox) == nil)
        let position = try DockerLogPosition(sandbox: sandbox)
        try position.record(DockerLogTimestamp(seconds: 1_795_313_688, nanoseconds: 123))
        try position.record(DockerLogTimestamp(seconds: 7, nanoseconds: 5))
        // The newest record wins, even when shorter than the one it overwrites
        #expect(DockerLogPosition.read(sandbox: sandbox) == DockerLogTimestamp(seconds: 7, nanoseconds: 5))
        #expect(DockerContainerRuntime.resumePoint(in: sandbox) == DockerLogTimestamp(seconds: 7, nanoseconds: 5))
    }
}
