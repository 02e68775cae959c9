// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore

extension AgentRunner {
    /// Runs a task's health checks as ``AgentCore`` schedules them, until the task ends or a kill stops them; kills
    /// the task when it failed too many checks in a row.
    func runHealthChecks(_ key: TaskKey) async {
        while let step = await self.core.nextHealthStep(key) {
            switch step {
            case .wait(let until):
                let delay = until - self.uptime()
                do {
                    try await self.sleep(for: max(.milliseconds(10), min(delay, .seconds(1))))
                } catch {
                    return
                }
            case .run(let check, let target, let timeout):
                let result = await self.healthProbe.run(check, target: target, timeout: timeout)
                if Task.isCancelled { return }
                if let kill = await self.core.healthCheckCompleted(key, result) {
                    await self.killContainer(kill)
                }
            }
        }
    }
}
