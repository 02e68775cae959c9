// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

enum TestServers {
    static let logger = Logger(label: "test.http", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs a Hummingbird server for `router` on 127.0.0.1 (a free port) while `body` runs.
    static func hummingbird(
        _ router: Router<BasicRequestContext>,
        idleTimeout: TimeAmount? = nil,
        _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        try await self.hummingbird(router, server: .http1(configuration: .init(idleTimeout: idleTimeout)), body)
    }

    /// Runs a Hummingbird server for `router` with the HTTP server `server` on 127.0.0.1 (a free port) while `body`
    /// runs.
    static func hummingbird(
        _ router: Router<BasicRequestContext>,
        server: HTTPServerBuilder,
        _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: Self.logger
        )
        let group = ServiceGroup(services: [app], logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// A thread-safe count.
final class Counter: Sendable {
    private let count = Mutex(0)

    func increment() { self.count.withLock { $0 += 1 } }

    var value: Int { self.count.withLock { $0 } }
}

/// A raw HTTP/1.1 server that counts the requests it receives and never answers: each connection is closed
/// `closeAfter` after a request arrives, as a server that dies mid-request.
final class DyingServer: Sendable {
    let requests: Counter
    private let channel: any Channel

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        let requests: Counter
        let closeAfter: TimeAmount

        init(requests: Counter, closeAfter: TimeAmount) {
            self.requests = requests
            self.closeAfter = closeAfter
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = self.unwrapInboundIn(data) else { return }
            self.requests.increment()
            let channel = context.channel
            context.eventLoop.scheduleTask(in: self.closeAfter) { channel.close(promise: nil) }
        }
    }

    private init(channel: any Channel, requests: Counter) {
        self.channel = channel
        self.requests = requests
    }

    var port: Int { self.channel.localAddress?.port ?? 0 }

    static func start(closeAfter: TimeAmount) async throws -> DyingServer {
        let requests = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(requests: requests, closeAfter: closeAfter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return DyingServer(channel: channel, requests: requests)
    }

    func stop() async {
        try? await self.channel.close()
    }
}
