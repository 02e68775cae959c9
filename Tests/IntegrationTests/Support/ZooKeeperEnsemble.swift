// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A ZooKeeper ensemble of real `QuorumPeerMain` servers (Debian's zookeeper jars) on free loopback ports, started
/// by the test: each node has its own data directory, `myid`, client port, and quorum/election ports.
///
/// ```swift
/// let ensemble = try await ZooKeeperEnsemble(nodes: 3)
/// let url = ensemble.url(path: "/mesos")  // zk://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/mesos
/// await ensemble.stop(1)                  // one node down
/// try await ensemble.start(1)
/// await ensemble.stopAll()                // kills every node and removes the directories
/// ```
final class ZooKeeperEnsemble: @unchecked Sendable {
    /// One server's ports: clients, followers to the quorum leader, leader election.
    struct Node: Sendable {
        var id: Int
        var clientPort: Int
        var quorumPort: Int
        var electionPort: Int
    }

    let directory: URL
    let nodes: [Node]
    private var processes: [ChildProcess?]
    private var starts = 0

    /// Whether java and the zookeeper jars are installed (scripts/services.sh installs them).
    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: "/usr/share/java/zookeeper.jar") && Self.java != nil
    }

    static let skipReason: Comment = "needs java and Debian's zookeeper package (scripts/services.sh install)"

    static var java: String? {
        ["/usr/bin/java", "/usr/local/bin/java"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The same classpath scripts/services.sh uses: zookeeper.jar (its manifest names jute, netty, metrics…) with
    /// log4j, falling back to every jar in /usr/share/java.
    static var classpath: String {
        let jars = [
            "/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar",
        ]
        if jars.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            return (["/etc/zookeeper/conf"] + jars).joined(separator: ":")
        }
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/share/java")) ?? [])
            .filter { $0.hasSuffix(".jar") }.map { "/usr/share/java/" + $0 }
        return (["/etc/zookeeper/conf"] + all).joined(separator: ":")
    }

    /// Starts `count` servers and waits until every one of them serves as leader or follower.
    init(nodes count: Int = 3, timeout: Duration = .seconds(90)) async throws {
        guard Self.java != nil else { throw ChildProcessError(message: "java not found: apt-get install zookeeper") }
        self.directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(
            "regatta-zk-\(UUID().uuidString.prefix(8))"
        )
        var nodes: [Node] = []
        var used = Set<Int>()
        for id in 1...count {
            var ports: [Int] = []
            while ports.count < 3 {
                let port = freePort()
                if used.insert(port).inserted { ports.append(port) }
            }
            nodes.append(Node(id: id, clientPort: ports[0], quorumPort: ports[1], electionPort: ports[2]))
        }
        self.nodes = nodes
        self.processes = Array(repeating: nil, count: count)
        let servers = nodes.map { "server.\($0.id)=127.0.0.1:\($0.quorumPort):\($0.electionPort)" }
        for (index, node) in nodes.enumerated() {
            let dir = self.nodeDirectory(index)
            try FileManager.default.createDirectory(
                at: dir.appendingPathComponent("data"),
                withIntermediateDirectories: true
            )
            try "\(node.id)\n".write(to: dir.appendingPathComponent("data/myid"), atomically: true, encoding: .utf8)
            let config = """
                tickTime=500
                initLimit=20
                syncLimit=10
                dataDir=\(dir.appendingPathComponent("data").path)
                clientPort=\(node.clientPort)
                clientPortAddress=127.0.0.1
                maxClientCnxns=0
                minSessionTimeout=1000
                maxSessionTimeout=60000
                forceSync=no
                admin.enableServer=false
                4lw.commands.whitelist=*
                quorumListenOnAllIPs=false
                \(servers.joined(separator: "\n"))

                """
            try config.write(to: dir.appendingPathComponent("zoo.cfg"), atomically: true, encoding: .utf8)
        }
        do {
            for index in nodes.indices { try self.launch(index) }
            try await self.waitForQuorum(timeout: timeout)
        } catch {
            await self.stopAll()
            throw error
        }
    }

    /// `zk://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/path` over every node (running or not).
    func url(path: String) -> String {
        let hosts = self.nodes.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",")
        return "zk://\(hosts)\(path.hasPrefix("/") ? path : "/" + path)"
    }

    /// `host:port,…` for ZooKeeper clients that take a connection string.
    var connectionString: String { self.nodes.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",") }

    /// Kills node `index` (SIGKILL by default, as a crash; SIGTERM for a clean shutdown).
    func stop(_ index: Int, signal: Int32 = SIGKILL) async {
        guard let process = self.processes[index] else { return }
        if signal == SIGKILL { await process.kill() } else { await process.stop() }
        self.processes[index] = nil
    }

    /// Starts node `index` again with its data directory and waits until it serves.
    func start(_ index: Int, timeout: Duration = .seconds(60)) async throws {
        guard self.processes[index]?.isRunning != true else { return }
        try self.launch(index)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let mode = await self.mode(index), mode == "leader" || mode == "follower" { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ChildProcessError(
            message: "ZooKeeper node \(index + 1) did not rejoin the quorum in \(timeout):\n"
                + (self.processes[index]?.logTail(30) ?? "")
        )
    }

    /// Whether node `index`'s process runs.
    func isRunning(_ index: Int) -> Bool { self.processes[index]?.isRunning == true }

    /// The node's `Mode:` from the `srvr` four-letter word (`leader`, `follower`, `standalone`), nil when it does not
    /// answer or does not serve (no quorum).
    func mode(_ index: Int) async -> String? {
        guard let answer = await Self.fourLetterWord("srvr", port: self.nodes[index].clientPort) else { return nil }
        for line in answer.split(separator: "\n") where line.hasPrefix("Mode: ") {
            return String(line.dropFirst("Mode: ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The index of the node the ensemble elected leader, if one answers.
    func leaderIndex() async -> Int? {
        for index in self.nodes.indices where await self.mode(index) == "leader" { return index }
        return nil
    }

    /// Waits until every running node serves as leader or follower.
    func waitForQuorum(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var serving = 0
            var running = 0
            for index in self.nodes.indices where self.isRunning(index) {
                running += 1
                if let mode = await self.mode(index), mode == "leader" || mode == "follower" { serving += 1 }
            }
            if running > 0 && serving == running { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        let logs = self.nodes.indices.map { "node \($0 + 1):\n" + (self.processes[$0]?.logTail(20) ?? "(stopped)") }
        throw ChildProcessError(
            message: "the ZooKeeper ensemble formed no quorum in \(timeout):\n"
                + logs.joined(separator: "\n")
        )
    }

    /// Kills every node and removes the ensemble's directory.
    func stopAll() async {
        for index in self.nodes.indices { await self.stop(index) }
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// The last lines of every node's log.
    func logs(_ lines: Int = 15) -> String {
        self.nodes.indices.map { "zookeeper \($0 + 1): " + (self.processes[$0]?.logTail(lines) ?? "(stopped)") }
            .joined(separator: "\n")
    }

    private func nodeDirectory(_ index: Int) -> URL {
        self.directory.appendingPathComponent("node\(index + 1)")
    }

    private func launch(_ index: Int) throws {
        let dir = self.nodeDirectory(index)
        self.starts += 1
        self.processes[index] = try ChildProcess(
            Self.java!,
            [
                "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dzookeeper.admin.enableServer=false",
                "-Dzookeeper.root.logger=INFO,CONSOLE", "-Dzookeeper.log.dir=\(dir.path)",
                "-cp", Self.classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                dir.appendingPathComponent("zoo.cfg").path,
            ],
            log: dir.appendingPathComponent("zookeeper.log")
        )
    }

    /// Sends a four-letter word to 127.0.0.1:`port` and returns the answer, or nil (refused, timeout, not allowed).
    static func fourLetterWord(_ word: String, port: Int, timeout: Duration = .seconds(2)) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Self.blockingFourLetterWord(word, port: port, timeout: timeout))
            }
        }
    }

    private static func blockingFourLetterWord(_ word: String, port: Int, timeout: Duration) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let sent = word.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, word.utf8.count, 0) }
        guard sent == word.utf8.count else { return nil }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        guard !data.isEmpty else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        return text.contains("is not executed because it is not in the whitelist") ? nil : text
    }
}
