// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Runs Marathon's scheduler-side health checks for real: `HTTP`, `HTTPS` and `TCP`.
///
/// - `HTTP`/`HTTPS`: `GET <path>` on the check's port over a fresh connection (see ``HealthCheckHTTPProbe``);
///   200–399 within `timeoutSeconds` is healthy, a 1xx answer is ``HealthCheckOutcome/ignored`` with
///   `ignoreHttp1xx` (unhealthy otherwise), anything else unhealthy. HTTPS does not verify the certificate (as
///   Marathon). Redirects are not followed: a 3xx is already a pass.
/// - `TCP`: healthy when a connection is established within the timeout.
///
/// `COMMAND` and `MESOS_*` checks run on the agent, as in Marathon (the task carries them); given one, the checker
/// answers ``HealthCheckOutcome/skipped``.
///
/// Checks go to `127.0.0.1` when the agent is this machine (see `Configuration.assumeLocalAgents`). A run that is
/// cancelled (the service is stopping) or cannot resolve its agent because the resolver is down is
/// ``HealthCheckOutcome/skipped``, never a failure.
///
/// Network I/O runs on NIO's shared event loop group; nothing needs shutting down.
public struct NetworkHealthChecker: HealthChecker {
    /// Settings of the checker.
    public struct Configuration: Sendable {
        /// Whether an agent hostname that does not resolve is taken to be this machine (checked on `127.0.0.1`).
        /// Right for single-machine clusters whose agents have made-up names (`agent-0`); set it to `false` when
        /// agents run on other machines, so that a misnamed agent fails its checks instead of probing this one.
        /// Defaults to `true`.
        public var assumeLocalAgents = true
        /// How long the address chosen for an agent hostname is reused before resolving it again. Defaults to `60`
        /// seconds.
        public var addressCacheTTL: Duration = .seconds(60)

        /// Creates the default configuration.
        public init() {}
    }

    /// The checker's settings.
    public let configuration: Configuration
    private let group: any EventLoopGroup
    private let probe: HealthCheckHTTPProbe
    private let resolver: HealthCheckAddressResolver
    private let logger: Logger

    /// Creates a checker on NIO's shared event loop group.
    public init(configuration: Configuration = Configuration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup.singleton
        self.probe = HealthCheckHTTPProbe(group: self.group)
        self.resolver = HealthCheckAddressResolver(
            assumeLocalAgents: configuration.assumeLocalAgents,
            cacheTTL: configuration.addressCacheTTL
        )
    }

    public func run(_ target: HealthCheckTarget) async -> HealthCheckOutcome {
        let check = target.check
        let timeout = Duration.seconds(max(check.timeoutSeconds, 0))
        let kind = check.protocol.uppercased()
        let outcome: HealthCheckOutcome
        switch kind {
        case "HTTP", "HTTPS", "TCP":
            guard let port = target.port, (1...65535).contains(port) else {
                return .unhealthy(Self.missingPort(target))
            }
            let address: String
            switch await self.resolver.resolve(target.host) {
            case .address(let resolved): address = resolved
            case .unresolvable(let reason): return .unhealthy(reason)
            case .unavailable: return .skipped
            }
            if kind == "TCP" {
                outcome = await self.tcp(address: address, port: port, timeout: timeout)
            } else {
                outcome = await self.http(
                    secure: kind == "HTTPS",
                    address: address,
                    port: port,
                    path: check.path ?? "/",
                    ignoreHttp1xx: check.ignoreHttp1xx,
                    timeout: timeout
                )
            }
        default:
            self.logger.debug(
                "Health check protocol not run by the scheduler",
                metadata: ["task.id": "\(target.taskId.value)", "health.protocol": "\(check.protocol)"]
            )
            return .skipped
        }
        return Task.isCancelled ? .skipped : outcome
    }

    // MARK: - HTTP

    private func http(
        secure: Bool,
        address: String,
        port: Int,
        path: String,
        ignoreHttp1xx: Bool,
        timeout: Duration
    ) async -> HealthCheckOutcome {
        let path = path.hasPrefix("/") ? path : "/" + path
        let host = address.contains(":") ? "[\(address)]" : address
        let probe = self.probe
        let name = "\(secure ? "HTTPS" : "HTTP") GET \(path) on port \(port)"
        return await Self.withTimeout(timeout, name: name) {
            do {
                let status = try await probe.status(
                    address: address,
                    port: port,
                    path: path,
                    hostHeader: "\(host):\(port)",
                    secure: secure,
                    connectTimeout: Self.timeAmount(timeout)
                )
                switch status.code {
                case 200..<400: return .healthy
                case 100..<200 where ignoreHttp1xx: return .ignored
                default: return .unhealthy("\(name) answered \(status.code) \(status.reasonPhrase)")
                }
            } catch ChannelError.connectTimeout {
                return .unhealthy("\(name) timed out after \(Self.describe(timeout))")
            } catch {
                return Task.isCancelled ? .skipped : .unhealthy("\(name) failed: \(Self.describe(error))")
            }
        }
    }

    // MARK: - TCP

    private func tcp(address: String, port: Int, timeout: Duration) async -> HealthCheckOutcome {
        let group = self.group
        let name = "TCP connect to \(address):\(port)"
        return await Self.withTimeout(timeout, name: name) {
            do {
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(Self.timeAmount(timeout))
                    .connect(host: address, port: port)
                    .get()
                try? await channel.close()
                return .healthy
            } catch ChannelError.connectTimeout {
                return .unhealthy("\(name) timed out after \(Self.describe(timeout))")
            } catch {
                return .unhealthy("\(name) failed: \(Self.describe(error))")
            }
        }
    }

    // MARK: - Helpers

    /// Runs `body`, and returns unhealthy "timed out" when it takes longer than `timeout` (cancelling it), or
    /// skipped when the caller is cancelled.
    private static func withTimeout(
        _ timeout: Duration,
        name: String,
        _ body: @escaping @Sendable () async -> HealthCheckOutcome
    ) async -> HealthCheckOutcome {
        enum Race: Sendable {
            case finished(HealthCheckOutcome)
            case timedOut
            case cancelled
        }
        return await withTaskGroup(of: Race.self) { group in
            group.addTask { .finished(await body()) }
            group.addTask {
                do {
                    // A little slack so that the operation's own timeout (with a clearer message) fires first.
                    try await Task.sleep(for: timeout + .milliseconds(100))
                    return .timedOut
                } catch {
                    return .cancelled
                }
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            switch first {
            case .finished(let outcome): return outcome
            case .timedOut: return .unhealthy("\(name) timed out after \(Self.describe(timeout))")
            case .cancelled: return .skipped
            }
        }
    }

    private static func missingPort(_ target: HealthCheckTarget) -> String {
        if let port = target.check.port { return "the health check's port \(port) is not a valid port" }
        let index = target.check.portIndex ?? 0
        return "the health check's portIndex \(index) does not name one of the instance's \(target.ports.count) ports"
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        TimeAmount(duration)
    }

    /// `2s`, `0.5s`.
    static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "\(seconds)s" }
        var fraction = String(format: "%03lld", milliseconds)
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction)s"
    }

    /// A short cause for a failed connection or request: `connection refused`, `connection reset by peer`, ….
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return Self.describe(first.error) }
            if let dnsError = error.dnsAAAAError ?? error.dnsAError { return "cannot resolve: \(dnsError)" }
            return "cannot connect"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case ChannelError.connectTimeout:
            return "connection timed out"
        case let error as NIOSSLError:
            return "TLS failed: \(error)"
        case let error as BoringSSLError:
            return "TLS failed: \(error)"
        case is HTTPParserError:
            return "the answer is not HTTP/1.x"
        default:
            return "\(error)"
        }
    }
}
