// SPDX-License-Identifier: Apache-2.0
import Glibc
import NIOPosix
import Synchronization

/// Decides which address a health check connects to for an agent's hostname.
///
/// An agent on this machine is checked on `127.0.0.1` (tasks publish their ports on loopback): that is the case
/// when the hostname is `localhost`, this machine's hostname, or resolves to an address of one of this machine's
/// interfaces. Any other resolvable hostname is used as is. A hostname that does not resolve is taken to be this
/// machine when `assumeLocalAgents` is set (single-machine clusters name agents `agent-0`, …); otherwise the check
/// fails with the resolver's answer. Answers are cached for `cacheTTL`.
///
/// A temporary resolver failure (`EAI_AGAIN`: DNS down or slow) never fails a check: the last good answer is kept,
/// or, with no answer yet, the host is taken to be local when `assumeLocalAgents` is set and the check is skipped
/// otherwise — a DNS blip must not kill every service at once.
final class HealthCheckAddressResolver: Sendable {
    /// Where a check goes.
    enum Resolution: Sendable, Equatable {
        /// Connect to this host (an IP address or a resolvable name).
        case address(String)
        /// The name does not exist and agents are not assumed local: the check fails with this reason.
        case unresolvable(String)
        /// The resolver failed temporarily and there is no earlier answer: the check is skipped.
        case unavailable(String)
    }

    private struct Entry {
        var resolution: Resolution
        var expires: ContinuousClock.Instant
    }

    private let assumeLocalAgents: Bool
    private let cacheTTL: Duration
    private let cache = Mutex<[String: Entry]>([:])

    init(assumeLocalAgents: Bool, cacheTTL: Duration) {
        self.assumeLocalAgents = assumeLocalAgents
        self.cacheTTL = cacheTTL
    }

    /// The address to check `host` on.
    func resolve(_ host: String) async -> Resolution {
        let now = ContinuousClock.now
        let cached = self.cache.withLock { $0[host] }
        if let cached, cached.expires > now { return cached.resolution }
        var resolution: Resolution
        var ttl = self.cacheTTL
        if Self.isLocalName(host) {
            resolution = .address("127.0.0.1")
        } else if Self.isIPAddress(host) {
            resolution = Self.localAddresses().contains(host) ? .address("127.0.0.1") : .address(host)
        } else {
            // getaddrinfo blocks: run it on NIO's thread pool, not on a cooperative thread.
            let lookup = try? await NIOThreadPool.singleton.runIfActive { Self.lookUp(host) }
            switch lookup ?? .temporaryFailure("the resolver thread pool is not running") {
            case .success(let addresses):
                let local = Self.localAddresses()
                resolution = addresses.contains(where: local.contains) ? .address("127.0.0.1") : .address(host)
            case .noSuchHost(let reason):
                resolution = self.assumeLocalAgents ? .address("127.0.0.1") : .unresolvable(reason)
            case .temporaryFailure(let reason):
                ttl = Self.retryAfterTemporaryFailure
                if let cached, case .address = cached.resolution {
                    resolution = cached.resolution
                } else if self.assumeLocalAgents {
                    resolution = .address("127.0.0.1")
                } else {
                    return .unavailable(reason)
                }
            }
        }
        self.cache.withLock { $0[host] = Entry(resolution: resolution, expires: now + ttl) }
        return resolution
    }

    /// How long an answer kept over a temporary resolver failure is used before asking again.
    private static let retryAfterTemporaryFailure: Duration = .seconds(5)

    private enum LookUp: Sendable {
        case success([String])
        case noSuchHost(String)
        case temporaryFailure(String)
    }

    private static func isLocalName(_ host: String) -> Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered.hasSuffix(".localhost") || lowered == "127.0.0.1" || lowered == "::1" {
            return true
        }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return false }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .lowercased()
        return lowered == name || lowered.split(separator: ".").first.map(String.init) == name
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    private static func lookUp(_ host: String) -> LookUp {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            let reason = "cannot resolve '\(host)': \(String(cString: gai_strerror(status)))"
            return status == EAI_NONAME ? .noSuchHost(reason) : .temporaryFailure(reason)
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let address = entry.pointee.ai_addr, let text = Self.numeric(address) { addresses.append(text) }
            cursor = entry.pointee.ai_next
        }
        return .success(addresses)
    }

    /// The addresses of this machine's interfaces, plus the loopback addresses.
    private static func localAddresses() -> Set<String> {
        var result: Set<String> = ["127.0.0.1", "::1"]
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return result }
        defer { freeifaddrs(first) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            if let address = entry.pointee.ifa_addr, let text = Self.numeric(address) { result.insert(text) }
            cursor = entry.pointee.ifa_next
        }
        return result
    }

    private static func numeric(_ address: UnsafeMutablePointer<sockaddr>) -> String? {
        let length: socklen_t
        switch Int32(address.pointee.sa_family) {
        case AF_INET: length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case AF_INET6: length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        default: return nil
        }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Drop an IPv6 zone (`fe80::1%eth0`).
        return text.split(separator: "%").first.map(String.init)
    }
}
