// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import Logging
import RegattaScheduler
import RegattaStore
import ServiceLifecycle

/// `regatta scheduler`: the Marathon-compatible service scheduler.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Run the service scheduler (Marathon REST API v2).")

    @Option(name: .customLong("master"), help: "The master, host:port.") var master: String?
    @Option(name: .customLong("zk"), help: "ZooKeeper URL for scheduler leader election.") var zk: String?
    @Option(name: .customLong("hostname"), help: "Hostname to advertise.") var hostname: String?
    @Option(name: .customLong("http_address"), help: "Address to listen on (default 127.0.0.1).") var httpAddress: String?
    @Option(name: .customLong("http_port"), help: "Port to listen on (default 8080).") var httpPort: Int?
    @Option(name: .customLong("store"), help: "postgres://user@host:port/db or sqlite:///path (default sqlite under /tmp/regatta).")
    var store: String?

    func run() async throws {
        guard let master = FlagEnvironment.string(self.master, "master") else {
            throw ValidationError("--master is required: give the master as host:port (e.g. 127.0.0.1:5050).")
        }
        if master.hasPrefix("zk://") {
            throw ValidationError("--master: zk:// masters are not available yet in this build; give host:port.")
        }
        if FlagEnvironment.string(self.zk, "zk") != nil {
            throw ValidationError("--zk: scheduler leader election is not available yet in this build; run one scheduler.")
        }
        var configuration = SchedulerService.Configuration()
        configuration.master = master
        configuration.httpAddress = FlagEnvironment.string(self.httpAddress, "http_address", default: "127.0.0.1")!
        configuration.httpPort = try FlagEnvironment.port(self.httpPort, "http_port", default: 8080)
        configuration.scheduler.hostname = FlagEnvironment.string(
            self.hostname, "hostname", default: configuration.httpAddress)!
        let url = FlagEnvironment.string(self.store, "store", default: "sqlite:///tmp/regatta/scheduler.db")!
        let logger = Logger(label: "regatta.scheduler")
        let store: any DurableSchedulerStore
        do {
            store = try SchedulerStoreFactory.make(url: url, logger: logger)
        } catch {
            throw ValidationError("--store: \(error)")
        }
        try await Self.run(store: store, configuration: configuration, logger: logger)
    }

    static func run(store: any DurableSchedulerStore, configuration: SchedulerService.Configuration, logger: Logger)
        async throws
    {
        let scheduler = SchedulerService(configuration: configuration, store: store, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [StoreService(store: store), scheduler], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// Runs a store's background work (PostgreSQL's connection pool) as a service.
struct StoreService: Service {
    let store: any DurableSchedulerStore
    func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.store.run() }
    }
}
