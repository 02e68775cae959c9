// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore

extension AgentRunner {
    /// Delivers a task's queued status updates in order, retrying each with backoff until the master answers 2xx.
    ///
    /// An update is never dropped: only cancellation (agent shutdown) ends the loop with updates left. A 404
    /// means the master does not know this agent; the link re-subscribes and delivery continues afterwards.
    func deliverUpdates(_ key: TaskKey) async {
        var attempt = 0
        while let (call, uuid) = await self.core.nextUpdate(key) {
            let failure: String
            do {
                switch try await self.master.send(call) {
                case .accepted:
                    await self.core.updateDelivered(key, uuid: uuid)
                    attempt = 0
                    continue
                case .unknownAgent(let message):
                    failure = "the master does not know this agent: \(message)"
                    await self.core.requestResubscribe()
                case .rejected(let status, let message):
                    failure = "status \(status): \(message)"
                }
            } catch {
                if Task.isCancelled { return }
                failure = "\(error)"
            }
            let delay = self.configuration.statusUpdateBackoff.delay(attempt: attempt)
            var metadata: Logger.Metadata = [
                LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)",
                LogKey.taskState: "\(call.update?.status.state.rawValue ?? "")", LogKey.error: "\(failure)",
                LogKey.retryDelay: "\(delay)",
            ]
            // Warn once per stall, when the delay first reaches its cap; every retry is at debug.
            if delay >= self.configuration.statusUpdateBackoff.maximum
                && self.configuration.statusUpdateBackoff.delay(attempt: attempt - 1) < delay
            {
                self.logger.warning(
                    "Status update not delivered yet; retrying until the master takes it", metadata: metadata)
            } else {
                metadata["retry.attempt"] = "\(attempt + 1)"
                self.logger.debug("Status update not delivered; retrying", metadata: metadata)
            }
            attempt += 1
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
        }
    }

    /// Answers a PING with PONG.
    func pong(_ agentID: AgentID) async {
        do {
            switch try await self.master.send(.pong(agent: agentID)) {
            case .accepted:
                break
            case .unknownAgent(let message):
                self.logger.notice(
                    "Master does not know this agent; re-subscribing", metadata: [LogKey.error: "\(message)"])
                await self.core.requestResubscribe()
            case .rejected(let status, let message):
                self.logger.warning(
                    "Master refused PONG", metadata: [LogKey.httpStatus: "\(status)", LogKey.error: "\(message)"])
            }
        } catch {
            self.logger.debug("PONG failed", metadata: [LogKey.error: "\(error)"])
        }
    }
}
