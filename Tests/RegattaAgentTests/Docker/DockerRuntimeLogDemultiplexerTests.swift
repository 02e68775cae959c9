// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Testing

@testable import RegattaAgent

/// ``DockerLogDemultiplexer`` against hand-built multiplexed streams (no Docker needed).
@Suite struct DockerRuntimeLogDemultiplexerTests {
    /// One frame: the 8-byte header then the payload.
    private func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let size = UInt32(payload.count)
        return [
            stream, 0, 0, 0, UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff),
        ]
            + payload
    }

    /// Feeds `chunks` and joins the payload per stream.
    private func demultiplex(_ chunks: [[UInt8]]) throws -> (stdout: String, stderr: String, boundary: Bool) {
        var demultiplexer = DockerLogDemultiplexer()
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        for chunk in chunks {
            for piece in try demultiplexer.consume(ByteBuffer(bytes: chunk)) {
                switch piece.stream {
                case .stdout, .stdin: stdout += piece.payload.readableBytesView
                case .stderr, .system: stderr += piece.payload.readableBytesView
                }
            }
        }
        return (
            String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self),
            demultiplexer.isAtFrameBoundary
        )
    }

    @Test func splitsFramesOfOneChunk() throws {
        // Given
        let chunk = self.frame(1, "out 1\n") + self.frame(2, "err 1\n") + self.frame(1, "out 2\n")
        // When
        let result = try self.demultiplex([chunk])
        // Then
        #expect(result.stdout == "out 1\nout 2\n")
        #expect(result.stderr == "err 1\n")
        #expect(result.boundary)
    }

    @Test func reassemblesFramesSplitAtEveryByte() throws {
        // Given: headers and payloads cut at every possible position
        let stream = self.frame(1, "hello ") + self.frame(2, "warning\n") + self.frame(1, "world\n")
        // When
        let result = try self.demultiplex(stream.map { [$0] })
        // Then
        #expect(result.stdout == "hello world\n")
        #expect(result.stderr == "warning\n")
        #expect(result.boundary)
    }

    @Test func handsOnPartialPayloadWithoutWaitingForTheFrameEnd() throws {
        // Given
        var demultiplexer = DockerLogDemultiplexer()
        let whole = self.frame(2, "abcdefgh")
        // When: the header and half the payload arrive
        let first = try demultiplexer.consume(ByteBuffer(bytes: whole[0..<12]))
        // Then
        #expect(first.count == 1)
        #expect(first.first?.stream == .stderr)
        #expect(first.first.map { String(buffer: $0.payload) } == "abcd")
        #expect(!demultiplexer.isAtFrameBoundary)
        // When: the rest arrives
        let second = try demultiplexer.consume(ByteBuffer(bytes: whole[12...]))
        #expect(second.map { String(buffer: $0.payload) } == ["efgh"])
        #expect(demultiplexer.isAtFrameBoundary)
    }

    @Test func skipsEmptyFramesAndKeepsStdinAndSystemStreams() throws {
        // Given
        let chunk = self.frame(1, "") + self.frame(0, "echoed\n") + self.frame(3, "engine error\n")
        // When
        var demultiplexer = DockerLogDemultiplexer()
        let pieces = try demultiplexer.consume(ByteBuffer(bytes: chunk))
        // Then
        #expect(pieces.map(\.stream) == [.stdin, .system])
        #expect(pieces.map { String(buffer: $0.payload) } == ["echoed\n", "engine error\n"])
    }

    @Test func readsLargeFrameLengths() throws {
        // Given: a 70,000-byte frame (the length needs three bytes)
        let text = String(repeating: "x", count: 70_000)
        // When
        let result = try self.demultiplex([self.frame(1, text)])
        // Then
        #expect(result.stdout.count == 70_000)
        #expect(result.boundary)
    }

    @Test func rejectsAnUnknownStreamType() {
        // Given: raw TTY output, which is not multiplexed
        var demultiplexer = DockerLogDemultiplexer()
        // When / Then
        #expect(throws: AgentError.self) {
            _ = try demultiplexer.consume(ByteBuffer(string: "plain text output\n"))
        }
    }
}
