// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore

extension AgentRunner {
    /// Sends one status update (the head of its task's stream) and tells the core how the master answered; the core
    /// decides when to retry. A 404 means the master does not know this agent: the link re-subscribes.
    func send(_ update: StatusUpdateManager.Update, of key: TaskKey) async {
        let call = await self.core.updateCall(update)
        var failure: String?
        do {
            switch try await self.master.send(call) {
            case .accepted:
                break
            case .unknownAgent(let message):
                failure = "the master does not know this agent: \(message)"
                await self.core.requestResubscribe()
            case .rejected(let status, let message) where status == 401 || status == 403:
                failure = self.unauthorizedMessage(status: status, message: message)
            case .rejected(let status, let message):
                failure = "status \(status): \(message)"
            }
        } catch {
            failure = "\(error)"
        }
        let result = await self.core.updateSent(key, uuid: update.uuid, taken: failure == nil)
        guard let failure else { return }
        var metadata: Logger.Metadata = [
            LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)",
            LogKey.taskState: "\(update.status.state.rawValue)", LogKey.error: "\(failure)",
            "retry.attempt": "\(result.failures)",
        ]
        if let retryAt = result.retryAt {
            metadata[LogKey.retryDelay] = "\(retryAt - self.uptime())"
        }
        // Warn once per stall, when the delay first reaches its cap; every retry is at debug.
        let backoff = self.configuration.statusUpdateBackoff
        if result.failures > 0, backoff.delay(attempt: result.failures - 1) >= backoff.maximum,
            result.failures == 1 || backoff.delay(attempt: result.failures - 2) < backoff.maximum
        {
            self.logger.warning(
                "Status update not delivered yet; retrying until the master takes it",
                metadata: metadata
            )
        } else {
            self.logger.debug("Status update not delivered; retrying", metadata: metadata)
        }
    }

    /// Sends status updates whose retry time has come, until the calling task is cancelled.
    func runUpdateRetries() async {
        while !Task.isCancelled {
            await self.core.sendDueUpdates()
            do {
                try await self.sleep(for: .milliseconds(100))
            } catch {
                return
            }
        }
    }

    /// Answers a PING with PONG.
    func pong(_ agentID: AgentID) async {
        do {
            let token = await self.core.registrationToken
            switch try await self.master.send(.pong(agent: agentID, registrationToken: token)) {
            case .accepted:
                break
            case .unknownAgent(let message):
                self.logger.notice(
                    "Master does not know this agent; re-subscribing",
                    metadata: [LogKey.error: "\(message)"]
                )
                await self.core.requestResubscribe()
            case .rejected(let status, let message) where status == 401 || status == 403:
                self.logger.warning(
                    "Master refused PONG",
                    metadata: [
                        LogKey.httpStatus: "\(status)",
                        LogKey.error: "\(self.unauthorizedMessage(status: status, message: message))",
                    ]
                )
            case .rejected(let status, let message):
                self.logger.warning(
                    "Master refused PONG",
                    metadata: [LogKey.httpStatus: "\(status)", LogKey.error: "\(message)"]
                )
            }
        } catch {
            self.logger.debug("PONG failed", metadata: [LogKey.error: "\(error)"])
        }
    }
}
