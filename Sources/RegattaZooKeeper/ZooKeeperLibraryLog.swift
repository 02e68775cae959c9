// SPDX-License-Identifier: Apache-2.0
import CZooKeeper
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Routes the C client's own log lines into swift-log instead of stderr.
///
/// The C library's log level and fallback stream are process-wide, and its per-handle log callback gets no context,
/// so the lines go to the logger of the most recently connected client. Its `ERROR` lines (for example a refused
/// connection while failing over) become `warning`, `WARN` lines `notice`; `INFO` and `DEBUG` are not produced.
enum ZooKeeperLibraryLog {
    private static let sink = Mutex<Logger?>(nil)

    /// Makes `logger` the destination and configures the C library (once per process).
    static func install(_ logger: Logger) {
        _ = Self.configured
        self.sink.withLock { $0 = logger }
    }

    private static let configured: Bool = {
        zoo_set_debug_level(ZOO_LOG_LEVEL_WARN)
        // Lines logged without a handle go to the library's stream, stderr by default: point it at a pipe whose
        // reader thread (one per process) forwards the lines to swift-log.
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return true }
        guard let stream = fdopen(fds[1], "w") else {
            close(fds[0])
            close(fds[1])
            return true
        }
        setvbuf(stream, nil, _IOLBF, 4096)
        zoo_set_log_stream(stream)
        let readEnd = fds[0]
        DetachedThread.run {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return }
                pending.append(contentsOf: buffer[..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    if !line.isEmpty { ZooKeeperLibraryLog.emit(line: line) }
                }
            }
        }
        return true
    }()

    /// The per-handle log callback's body.
    static func emit(_ message: UnsafePointer<CChar>?) {
        guard let message else { return }
        self.emit(line: String(cString: message))
    }

    /// Logs one line of the form `time:pid(thread):ZOO_ERROR@function@line: message`.
    static func emit(line: String) {
        guard let logger = self.sink.withLock({ $0 }) else { return }
        let levels: [(String, Logger.Level)] = [
            ("ZOO_ERROR@", .warning), ("ZOO_WARN@", .notice), ("ZOO_INFO@", .debug), ("ZOO_DEBUG@", .trace),
        ]
        var level = Logger.Level.notice
        var function = ""
        var message = Substring(line)
        for (token, candidate) in levels {
            guard let range = line.firstRange(of: token) else { continue }
            level = candidate
            let rest = line[range.upperBound...]
            if let separator = rest.firstRange(of: ": ") {
                function = String(rest[..<separator.lowerBound])
                message = rest[separator.upperBound...]
            }
            break
        }
        while message.last?.isNewline == true { message.removeLast() }
        logger.log(
            level: level,
            "ZooKeeper C client",
            metadata: [LogKey.message: "\(message)", LogKey.function: "\(function)"]
        )
    }
}
