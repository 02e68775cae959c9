// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaBench
import RegattaMaster

/// A real master (``MasterService``: HTTP server and timers) on a loopback port, started in the background.
struct TestMaster {
    let service: MasterService
    let background: BackgroundService
    let port: Int

    var master: Master { self.service.master }

    /// Starts a master with short timers: pings every `pingInterval`, allocation every 50 ms.
    static func start(
        port: Int? = nil,
        pingInterval: Duration = .milliseconds(200),
        maxMissedPings: Int = 5
    )
        async throws -> TestMaster
    {
        var configuration = MasterConfiguration()
        configuration.port = try port ?? LoopbackPort.free()
        configuration.agentPingTimeout = pingInterval
        configuration.maxAgentPingTimeouts = maxMissedPings
        configuration.allocationInterval = .milliseconds(50)
        configuration.heartbeatInterval = .seconds(1)
        let service = MasterService(configuration: configuration, logger: Logger(label: "test.master"))
        let background = BackgroundService.start(service: service, logger: Logger(label: "test.master"))
        try await LoopbackPort.waitUntilListening(configuration.port)
        return TestMaster(service: service, background: background, port: configuration.port)
    }

    func stop() async {
        await self.background.stop()
    }
}
