// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging

/// Sets up logging for the `regatta` process: one line per record on stderr.
public enum RegattaLogging {
    /// Bootstraps swift-log once; the level comes from `REGATTA_LOG_LEVEL` (default `info`).
    public static func bootstrap() {
        let level =
            ProcessInfo.processInfo.environment["REGATTA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
