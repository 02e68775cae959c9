// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import ServiceLifecycle

/// How long a daemon may take to stop, so SIGTERM always ends it: a store or ZooKeeper that stopped answering must
/// not hold the process up (supervisors escalate to SIGKILL after their own grace; systemd's default is 90 seconds).
///
/// - Graceful shutdown (`maximumGracefulShutdownDuration`): 15 seconds to drain requests and streams, end the
///   leadership term and send the last status updates; then the services are cancelled.
/// - Hard deadline: 20 seconds after the stop began, the process exits with code 1 and one line on stderr, whatever
///   is still running (a call that ignores cancellation).
enum ShutdownBounds {
    /// How long graceful shutdown may take before the services are cancelled.
    static let gracefulShutdown: Duration = .seconds(15)
    /// When the process exits regardless, counted from the start of the stop.
    static let hardDeadline: Duration = .seconds(20)

    /// A service group for a daemon: stops gracefully on SIGTERM and SIGINT within ``gracefulShutdown`` and exits
    /// by ``hardDeadline``.
    static func serviceGroup(_ services: [any Service], daemon: String, logger: Logger) -> ServiceGroup {
        // The deadline goes last: services stop in reverse order, so it learns of the stop first.
        let deadline = HardDeadline(daemon: daemon, after: self.hardDeadline)
        var configuration = ServiceGroupConfiguration(
            services: (services + [deadline]).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = self.gracefulShutdown
        return ServiceGroup(configuration: configuration)
    }
}

/// Waits for the stop to begin (graceful shutdown or cancellation), then ends the process `after` that unless it
/// exited by then. The timer runs on its own thread, so nothing in Swift concurrency can hold it up.
struct HardDeadline: Service {
    let daemon: String
    let after: Duration

    func run() async throws {
        try? await gracefulShutdown()
        let daemon = self.daemon
        let after = self.after
        let seconds = Double(after.components.seconds) + Double(after.components.attoseconds) / 1e18
        let thread = Thread {
            Thread.sleep(forTimeInterval: seconds)
            let line = "regatta \(daemon): did not stop within \(after) of the stop signal; exiting.\n"
            FileHandle.standardError.write(Data(line.utf8))
            _exit(1)
        }
        thread.start()
    }
}
