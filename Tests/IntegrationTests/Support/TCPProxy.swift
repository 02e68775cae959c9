// SPDX-License-Identifier: Apache-2.0
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy (127.0.0.1:`port` → 127.0.0.1:`upstreamPort`) on plain blocking sockets and threads, which a
/// test can ``cut(_:)`` and ``restore()`` — e.g. to take one process's ZooKeeper connection away while the ensemble
/// stays up, so that process's session expires.
///
/// Give a process one proxy per ZooKeeper server (``TCPProxy/group(upstreamPorts:)``) and a `zk://` URL over the
/// proxies' ports; cutting them all isolates it from the whole ensemble.
final class TCPProxy: @unchecked Sendable {
    /// What a cut does to traffic.
    enum CutMode: Sendable {
        /// Close every connection and every new one at once (the peer sees a reset/EOF).
        case reset
        /// Keep connections open but forward nothing (a silent partition, like an iptables DROP rule).
        case blackhole
    }

    let port: Int
    let upstreamPort: Int
    private let lock = NSLock()
    private var listener: Int32
    private var connections: [Int32: Int32] = [:]  // client fd → upstream fd (upstream -1 while blackholed)
    private var mode: CutMode?
    private var closed = false

    /// Listens on a free 127.0.0.1 port and forwards to 127.0.0.1:`upstreamPort`.
    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ChildProcessError(message: "TCPProxy: socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            Glibc.close(fd)
            throw ChildProcessError(message: "TCPProxy: bind/listen on 127.0.0.1 failed: errno \(errno)")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = fd
        let thread = Thread { [self] in self.acceptLoop() }
        thread.name = "tcp-proxy-\(self.port)"
        thread.start()
    }

    /// One proxy per upstream port.
    static func group(upstreamPorts: [Int]) throws -> [TCPProxy] {
        try upstreamPorts.map { try TCPProxy(upstreamPort: $0) }
    }

    /// Whether traffic is cut.
    var isCut: Bool { self.lock.withLock { self.mode != nil } }

    /// Stops forwarding: `.reset` closes every connection (and each new one), `.blackhole` keeps them open silently.
    func cut(_ mode: CutMode = .reset) {
        let open: [(Int32, Int32)] = self.lock.withLock {
            self.mode = mode
            return mode == .reset ? Array(self.connections) : []
        }
        for (client, upstream) in open {
            shutdown(client, Int32(SHUT_RDWR))
            if upstream >= 0 { shutdown(upstream, Int32(SHUT_RDWR)) }
        }
    }

    /// Forwards again; connections opened from now on reach the upstream. Connections held open by a blackhole cut
    /// are closed, so clients reconnect.
    func restore() {
        let held: [(Int32, Int32)] = self.lock.withLock {
            let wasBlackhole = self.mode == .blackhole
            self.mode = nil
            return wasBlackhole ? Array(self.connections) : []
        }
        for (client, upstream) in held {
            shutdown(client, Int32(SHUT_RDWR))
            if upstream >= 0 { shutdown(upstream, Int32(SHUT_RDWR)) }
        }
    }

    /// Closes the listener and every connection.
    func close() {
        let (listener, open): (Int32, [(Int32, Int32)]) = self.lock.withLock {
            self.closed = true
            return (self.listener, Array(self.connections))
        }
        shutdown(listener, Int32(SHUT_RDWR))
        for (client, upstream) in open {
            shutdown(client, Int32(SHUT_RDWR))
            if upstream >= 0 { shutdown(upstream, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(self.listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                break
            }
            let (closed, mode) = self.lock.withLock { (self.closed, self.mode) }
            if closed {
                Glibc.close(client)
                break
            }
            switch mode {
            case .reset:
                Glibc.close(client)
            case .blackhole:
                self.lock.withLock { self.connections[client] = -1 }
                self.spawn { self.drain(client) }
            case nil:
                let upstream = self.connectUpstream()
                guard upstream >= 0 else {
                    Glibc.close(client)
                    continue
                }
                // A reset cut that came while this connection was being made has not seen it: register and check
                // under one lock, or the connection escapes the cut (a master kept its ZooKeeper session that way).
                let open = self.lock.withLock { () -> Bool in
                    guard !self.closed, self.mode != .reset else { return false }
                    self.connections[client] = upstream
                    return true
                }
                guard open else {
                    Glibc.close(client)
                    Glibc.close(upstream)
                    continue
                }
                self.spawn { self.pump(from: client, to: upstream, owner: client) }
                self.spawn { self.pump(from: upstream, to: client, owner: client) }
            }
        }
        Glibc.close(self.listener)
    }

    private func spawn(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = 256 << 10
        thread.start()
    }

    private func connectUpstream() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var address = Self.loopback(port: self.upstreamPort)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            Glibc.close(fd)
            return -1
        }
        return fd
    }

    /// Copies bytes until either side closes; drops them while a blackhole cut is on. The thread reading from the
    /// client closes both sockets at the end.
    private func pump(from source: Int32, to destination: Int32, owner client: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            if self.lock.withLock({ self.mode == .blackhole }) { continue }
            var offset = 0
            while offset < count {
                let sent = buffer.withUnsafeBytes {
                    send(destination, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent < 0 && errno == EINTR { continue }
                if sent <= 0 { break }
                offset += sent
            }
            if offset < count { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
        if source == client {
            // Both directions end on the shutdowns above; give the other pump a moment before the fds are reused.
            Thread.sleep(forTimeInterval: 0.2)
            self.lock.withLock { _ = self.connections.removeValue(forKey: client) }
            Glibc.close(client)
            Glibc.close(destination)
        }
    }

    /// Reads and drops a blackholed connection's bytes until it closes.
    private func drain(_ client: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
        }
        self.lock.withLock { _ = self.connections.removeValue(forKey: client) }
        Glibc.close(client)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
