// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOPosix
import Synchronization

/// A TCP connection that sends raw bytes and records what comes back, to test a listener below the HTTP client
/// level (requests without their body, oversized heads, connections that never send anything).
final class RawConnection: Sendable {
    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex(ByteBuffer())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = self.unwrapInboundIn(data)
            self.received.withLock { _ = $0.writeBuffer(&buffer) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A reset by the server counts as a close.
            context.close(promise: nil)
        }
    }

    private let channel: any Channel
    private let recorder: Recorder

    private init(channel: any Channel, recorder: Recorder) {
        self.channel = channel
        self.recorder = recorder
    }

    static func connect(port: Int) async throws -> RawConnection {
        let recorder = Recorder()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(recorder) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, recorder: recorder)
    }

    /// Sends `text` as it is.
    func send(_ text: String) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Everything received so far.
    var received: String {
        String(buffer: self.recorder.received.withLock { $0 })
    }

    /// Waits until the server closes the connection and returns everything it sent.
    func waitUntilClosed() async throws -> String {
        try await self.channel.closeFuture.get()
        return self.received
    }

    /// Waits until what was received contains `text`, or the connection closed (returns what arrived either way).
    func waitUntilReceived(_ text: String) async throws -> String {
        while self.channel.isActive, !self.received.contains(text) {
            try await Task.sleep(for: .milliseconds(10))
        }
        return self.received
    }

    var isOpen: Bool { self.channel.isActive }

    func close() async {
        try? await self.channel.close()
    }
}
