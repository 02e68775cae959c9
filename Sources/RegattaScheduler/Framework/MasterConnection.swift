// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RegattaCore

/// What a framework's connection to the master reports.
public enum ConnectionEvent: Sendable, Equatable {
    /// Subscribed (again); calls may be sent from now on.
    case subscribed(FrameworkID)
    /// An event from the master.
    case event(SchedulerEvent)
    /// The subscription ended; the connection will re-subscribe by itself.
    case disconnected(reason: String)
}

/// The scheduler's link to the master: a Mesos v1 scheduler API subscription plus calls.
///
/// The built-in scheduler uses the same public HTTP API as any third-party framework.
public protocol MasterConnection: Sendable {
    /// Subscribes, re-subscribing with backoff whenever the stream ends, until the task is cancelled.
    ///
    /// - Parameter frameworkInfo: called before every SUBSCRIBE, so a stored framework id is reused.
    func run(frameworkInfo: @escaping @Sendable () async -> FrameworkInfo, events: AsyncStream<ConnectionEvent>.Continuation)
        async throws

    /// Sends a call on the current subscription.
    ///
    /// - Throws: `SchedulerError.masterUnavailable` when not subscribed or the master refuses the call.
    func send(_ call: SchedulerCall) async throws
}

/// A `MasterConnection` over HTTP to `POST /api/v1/scheduler`.
public final class HTTPMasterConnection: MasterConnection {
    private struct Subscription: Sendable {
        var frameworkID: FrameworkID
        var streamID: String
    }

    private let master: String
    private let client: HTTPClient
    private let logger: Logger
    private let subscription = Locked<Subscription?>(nil)

    /// - Parameter master: `host:port` of the master.
    public init(master: String, client: HTTPClient = .shared, logger: Logger) {
        self.master = master.hasPrefix("http") ? master : "http://\(master)"
        self.client = client
        self.logger = logger
    }

    public func run(
        frameworkInfo: @escaping @Sendable () async -> FrameworkInfo,
        events: AsyncStream<ConnectionEvent>.Continuation
    ) async throws {
        var backoff = Duration.milliseconds(500)
        while !Task.isCancelled {
            do {
                try await self.subscribeOnce(info: await frameworkInfo(), events: events)
                backoff = .milliseconds(500)
            } catch is CancellationError {
                break
            } catch {
                self.logger.warning(
                    "Subscription to the master failed", metadata: ["master": "\(self.master)", "error": "\(error)"])
            }
            self.subscription.withLock { $0 = nil }
            events.yield(.disconnected(reason: "subscription ended"))
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(10))
        }
    }

    private func subscribeOnce(info: FrameworkInfo, events: AsyncStream<ConnectionEvent>.Continuation) async throws {
        var call = SchedulerCall(frameworkId: info.id, type: .subscribe)
        call.subscribe = .init(frameworkInfo: info)
        var request = HTTPClientRequest(url: "\(self.master)/api/v1/scheduler")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        let response = try await self.client.execute(request, timeout: .seconds(10))
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 1 << 16)
            throw SchedulerError(
                .masterUnavailable,
                "The master refused SUBSCRIBE with \(response.status.code): \(body.map { String(buffer: $0) } ?? "")")
        }
        guard let streamID = response.headers.first(name: "Mesos-Stream-Id") else {
            throw SchedulerError(.masterUnavailable, "The master's SUBSCRIBE response has no Mesos-Stream-Id header.")
        }
        let heartbeat = Locked(Duration.seconds(15))
        try await withThrowingTaskGroup(of: Void.self) { group in
            let lastEvent = Locked(ContinuousClock.now)
            group.addTask {
                var decoder = RecordIODecoder()
                let jsonDecoder = MesosJSON.decoder()
                for try await chunk in response.body {
                    for record in try decoder.feed(chunk.readableBytesView) {
                        let event = try jsonDecoder.decode(SchedulerEvent.self, from: Data(record))
                        lastEvent.withLock { $0 = .now }
                        if event.type == .subscribed, let subscribed = event.subscribed {
                            heartbeat.withLock {
                                $0 = .milliseconds(Int64((subscribed.heartbeatIntervalSeconds ?? 15) * 1000))
                            }
                            self.subscription.withLock {
                                $0 = Subscription(frameworkID: subscribed.frameworkId, streamID: streamID)
                            }
                            events.yield(.subscribed(subscribed.frameworkId))
                        }
                        events.yield(.event(event))
                        if event.type == .error {
                            throw SchedulerError(
                                .masterUnavailable, "The master sent ERROR: \(event.error?.message ?? "")")
                        }
                    }
                }
                throw SchedulerError(.masterUnavailable, "The master closed the subscription stream.")
            }
            group.addTask {
                // Mesos's advice: treat ~5 missed heartbeats as a lost connection.
                while true {
                    try await Task.sleep(for: .seconds(1))
                    let silence = ContinuousClock.now - lastEvent.withLock { $0 }
                    if silence > heartbeat.value * 5 {
                        throw SchedulerError(.masterUnavailable, "No heartbeat from the master for \(silence).")
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    public func send(_ call: SchedulerCall) async throws {
        guard let subscription = self.subscription.withLock({ $0 }) else {
            throw SchedulerError(.masterUnavailable, "Not subscribed to the master; the call was not sent.")
        }
        var call = call
        call.frameworkId = subscription.frameworkID
        var request = HTTPClientRequest(url: "\(self.master)/api/v1/scheduler")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Mesos-Stream-Id", value: subscription.streamID)
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        let response = try await self.client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        guard response.status == .accepted || response.status == .ok else {
            throw SchedulerError(
                .masterUnavailable,
                "The master answered \(call.type.rawValue) with \(response.status.code): \(String(buffer: body))")
        }
    }
}
