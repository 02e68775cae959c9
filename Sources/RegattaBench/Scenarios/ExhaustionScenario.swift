// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import NIOCore
import NIOPosix
import RegattaCore

/// Resource exhaustion on loopback: while thousands of idle connections, hundreds of framework subscribers that
/// never read, operator subscribers beyond the cap and concurrent oversized bodies hit the master (and the
/// scheduler), `/health` is timed; then the attack stops and the time until the process is back to its baseline
/// descriptors and `/health` answers is measured.
///
/// Counts: `--connections` idle connections (default 5000, 4/5 to the master, 1/5 to the scheduler),
/// `--frameworks` subscribers that never read (default 200), `--bodies` concurrent oversized bodies (default 32
/// per round, 4 rounds), `--requests` `/health` probes per phase (default 200). Bounded by `--timeout`.
enum ExhaustionScenario {
    static func run(options: BenchOptions, logger: Logger) async throws -> BenchReport {
        let connections = options.connections ?? 5_000
        let subscribers = options.frameworks ?? 200
        let bodies = max(1, options.bodies ?? 32)
        let probes = options.requests
        // Every attack connection costs two descriptors in this process (client and server side).
        let needed = UInt64(2 * (connections + subscribers + 4 * bodies) + 2_048)
        let limit = FileDescriptorLimit.raise(to: needed)
        guard limit >= needed else {
            throw BenchError(
                .invalidArgument,
                "The exhaustion scenario needs \(needed) file descriptors and the hard limit allows \(limit); "
                    + "pass a smaller --connections or raise the hard limit (ulimit -Hn)."
            )
        }
        return try await BenchCluster.with(options: options, agents: 0, scheduler: true, logger: logger) { cluster in
            guard let schedulerPort = cluster.schedulerPort else { throw BenchError(.setupFailed, "No scheduler.") }
            let masterPort = cluster.masterPort
            let health = "http://127.0.0.1:\(masterPort)/health"
            let group = MultiThreadedEventLoopGroup.singleton
            let operatorAttempts = await cluster.master.configuration.maxOperatorSubscribers + 50
            // Warm up, then the baseline.
            _ = try await APIScenario.measure(cluster: cluster, url: health, clients: 1, requests: 20)
            let baselineRSS = ProcessMemory.residentBytes() ?? 0
            let baselineDescriptors = Self.openDescriptors()
            let (baselineLatency, _) = try await APIScenario.measure(
                cluster: cluster,
                url: health,
                clients: 1,
                requests: probes
            )
            logger.info("Attacking", metadata: ["connections": "\(connections)", "subscribers": "\(subscribers)"])

            let attackStart = ContinuousClock.now
            let sampler = RSSSampler()
            let sampling = BackgroundService.start { await sampler.run() }
            var attackers: [AttackConnection] = []
            // Idle connections: half say nothing, half send half a request head (slowloris).
            for index in 0..<connections {
                let port = index % 5 == 4 ? schedulerPort : masterPort
                guard let connection = try? await AttackConnection.open(port: port, group: group, reading: true)
                else { continue }
                if index % 2 == 1 { connection.send("GET /health HTTP/1.1\r\nHost: bench\r\nX-Slow: ") }
                attackers.append(connection)
            }
            let idleOpened = attackers.count
            // Framework subscribers that never read their stream.
            let subscribe = #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"bench","name":"stalled"}}}"#
            for _ in 0..<subscribers {
                guard let connection = try? await AttackConnection.open(port: masterPort, group: group, reading: false)
                else { continue }
                connection.send(Self.post("/api/v1/scheduler", body: subscribe))
                attackers.append(connection)
            }
            // Operator subscribers past the cap (the excess is refused with 503), never reading either.
            let operatorSubscribe = #"{"type":"SUBSCRIBE"}"#
            for _ in 0..<operatorAttempts {
                guard let connection = try? await AttackConnection.open(port: masterPort, group: group, reading: false)
                else { continue }
                connection.send(Self.post("/api/v1", body: operatorSubscribe))
                attackers.append(connection)
            }
            // Oversized bodies, in rounds, while /health is probed: announced (refused before reading) and chunked
            // (cut off at the limit), to both daemons.
            let chunk = String(repeating: "x", count: 64 * 1024)
            let bodyRounds = BackgroundService.start {
                for _ in 0..<4 {
                    await withTaskGroup(of: Void.self) { tasks in
                        for index in 0..<bodies {
                            tasks.addTask {
                                let port = index % 2 == 0 ? masterPort : schedulerPort
                                let path = port == masterPort ? "/api/v1/scheduler" : "/v2/apps"
                                guard
                                    let connection = try? await AttackConnection.open(
                                        port: port,
                                        group: group,
                                        reading: true
                                    )
                                else { return }
                                if index % 4 < 2 {
                                    connection.send(
                                        "POST \(path) HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                                            + "Content-Length: 1073741824\r\n\r\n"
                                    )
                                } else {
                                    connection.send(
                                        "POST \(path) HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                                            + "Transfer-Encoding: chunked\r\n\r\n"
                                    )
                                    let piece = "10000\r\n\(chunk)\r\n"
                                    // 32 MiB: past both daemons' limits.
                                    for _ in 0..<512 where connection.isActive {
                                        try? await connection.write(piece)
                                    }
                                }
                                await connection.waitUntilClosed(atMost: .seconds(30))
                            }
                        }
                    }
                }
            }
            let (attackLatency, _) = try await APIScenario.measure(
                cluster: cluster,
                url: health,
                clients: 2,
                requests: probes
            )
            await bodyRounds.stop()
            let attackDescriptors = Self.openDescriptors()
            let stillOpen = attackers.filter(\.isActive).count
            let attackDuration = ContinuousClock.now - attackStart

            // Stop the attack and time the recovery.
            let stopped = ContinuousClock.now
            for connection in attackers { connection.close() }
            var recovered: Duration?
            while ContinuousClock.now - stopped < .seconds(60) {
                if Self.openDescriptors() <= baselineDescriptors + 16,
                    (try? await cluster.get(health).status) == 200
                {
                    recovered = ContinuousClock.now - stopped
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let (afterLatency, _) = try await APIScenario.measure(
                cluster: cluster,
                url: health,
                clients: 1,
                requests: probes
            )
            await sampling.stop()

            var report = BenchReport(scenario: BenchScenario.exhaustion.rawValue)
            report.set("idle_connections", idleOpened)
            report.set("stalled_framework_subscribers", subscribers)
            report.set("operator_subscribers_attempted", operatorAttempts)
            report.set("oversized_bodies", 4 * bodies)
            report.set("attack_connections_open_at_end", stillOpen)
            report.set("attack_seconds", attackDuration.inSeconds)
            report.set("baseline_rss_mib", Double(baselineRSS) / 1_048_576)
            report.set("attack_peak_rss_mib", Double(sampler.peak) / 1_048_576)
            report.set("baseline_descriptors", baselineDescriptors)
            report.set("attack_descriptors", attackDescriptors)
            report.set("health_baseline_p50_ms", baselineLatency.median)
            report.set("health_baseline_p99_ms", baselineLatency.p99)
            report.set("health_attack_p50_ms", attackLatency.median)
            report.set("health_attack_p99_ms", attackLatency.p99)
            report.set("health_after_p99_ms", afterLatency.p99)
            report.set("recovery_seconds", recovered.map(\.inSeconds) ?? .nan)
            report.notes.append(
                "Master and scheduler run in this process, and so do the attacking clients: descriptors count both "
                    + "ends of every connection, and RSS includes the clients' buffers."
            )
            report.notes.append(
                "recovery_seconds: from closing the attack connections until descriptors are within 16 of the "
                    + "baseline and /health answers; nan if not within 60 s."
            )
            return report
        }
    }

    static func post(_ path: String, body: String) -> String {
        "POST \(path) HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// Descriptors open in this process.
    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
}

/// Samples this process's RSS every 50 ms and keeps the largest.
private final class RSSSampler: Sendable {
    private let largest = Locked(0)

    var peak: Int { self.largest.value }

    func run() async {
        while !Task.isCancelled {
            let now = ProcessMemory.residentBytes() ?? 0
            self.largest.withLock { $0 = max($0, now) }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// One attacking TCP connection: sends raw bytes; reads and discards what comes back, or never reads at all.
private final class AttackConnection: Sendable {
    private final class Discard: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func open(port: Int, group: any EventLoopGroup, reading: Bool) async throws -> AttackConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.autoRead, value: reading)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Discard()) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return AttackConnection(channel: channel)
    }

    var isActive: Bool { self.channel.isActive }

    func send(_ text: String) {
        self.channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
    }

    func write(_ text: String) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(string: text))
    }

    func waitUntilClosed(atMost limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while self.channel.isActive, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    func close() {
        self.channel.close(promise: nil)
    }
}
