// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore

/// The background work ``DockerContainerRuntime/run()`` performs: following containers, stopping and removing them.
extension DockerContainerRuntime {
    func perform(_ job: Job) async {
        switch job {
        case .follow(let followed):
            await self.follow(followed)
        case .stop(let container, let dockerID, let gracePeriod):
            await self.stop(container, dockerID: dockerID, gracePeriod: gracePeriod)
        case .remove(let container, let dockerID):
            await self.remove(container, dockerID: dockerID)
        }
    }

    /// Copies the container's output to its sandbox until it exits, then records (or hands out) its exit.
    private func follow(_ followed: Followed) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.copyOutput(followed) }
            guard let exit = await self.awaitExit(followed) else {
                group.cancelAll()
                return
            }
            // Docker ends a followed logs stream once the container has stopped and its output is sent; give the
            // last bytes a moment, but never hang on a stream that does not end.
            let drain = self.configuration.logDrainTimeout
            group.addTask { try? await Task.sleep(for: drain) }
            _ = await group.next()
            group.cancelAll()
            await self.finish(followed, exit: exit)
        }
    }

    /// Hands the exit to a waiting ``wait(for:)`` (then removes the container) or keeps it for the next one.
    private func finish(_ followed: Followed, exit: DockerContainerExit) async {
        let (waiter, recorded) = self.state.withLock {
            state -> (CheckedContinuation<DockerContainerExit, any Error>?, DockerContainerExit?) in
            guard var entry = state.containers[followed.containerID] else { return (nil, nil) }
            var exit = exit
            exit.termination.killed = entry.killed
            exit.termination = exit.reported
            if let waiter = entry.waiter {
                state.containers[followed.containerID] = nil
                return (waiter, exit)
            }
            entry.exit = exit
            state.containers[followed.containerID] = entry
            return (nil, exit)
        }
        if let recorded {
            self.logger.debug(
                "Docker container exited",
                metadata: [
                    LogKey.containerID: "\(followed.containerID)", LogKey.dockerContainerID: "\(followed.dockerID)",
                    "termination": "\(recorded.termination.status)", "docker.oom_killed": "\(recorded.oomKilled)",
                ]
            )
        }
        if let waiter, let recorded {
            waiter.resume(returning: recorded)
            if self.configuration.removeExitedContainers {
                await self.remove(followed.containerID, dockerID: followed.dockerID)
            }
        }
    }

    /// Waits until the container is no longer running and reads how it ended; retries while Docker is away.
    /// Returns `nil` once cancelled.
    private func awaitExit(_ followed: Followed) async -> DockerContainerExit? {
        while !Task.isCancelled {
            do {
                _ = try await self.client.waitContainer(followed.dockerID)
                let details = try await self.client.inspectContainer(followed.dockerID)
                if details.state.running { continue }
                return Self.exit(from: details)
            } catch let error as AgentError where error.code == .containerNotFound {
                return DockerContainerExit(
                    termination: ContainerTermination(
                        status: .unknown(reason: "the Docker container '\(followed.dockerID)' was removed by others"),
                        killed: false
                    ),
                    oomKilled: false
                )
            } catch {
                if Task.isCancelled { return nil }
                self.logger.warning(
                    "Lost track of a Docker container; retrying",
                    metadata: [
                        LogKey.containerID: "\(followed.containerID)",
                        LogKey.dockerContainerID: "\(followed.dockerID)", LogKey.error: "\(error)",
                    ]
                )
                try? await Task.sleep(for: self.configuration.retryInterval)
            }
        }
        return nil
    }

    /// How a container that no longer runs ended, from Docker's inspect answer.
    static func exit(from details: DockerContainerDetails) -> DockerContainerExit {
        let state = details.state
        let engineError = state.error.flatMap { $0.isEmpty ? nil : $0 }
        if state.status == "created" {
            let reason = "the Docker container was created but never started" + (engineError.map { ": \($0)" } ?? "")
            return DockerContainerExit(
                termination: ContainerTermination(status: .unknown(reason: reason), killed: false),
                oomKilled: false,
                engineError: engineError
            )
        }
        return DockerContainerExit(
            termination: ContainerTermination(status: .exited(code: state.exitCode), killed: false),
            oomKilled: state.oomKilled,
            memoryLimit: details.hostConfig?.memory.flatMap { $0 > 0 ? $0 : nil },
            engineError: engineError
        )
    }

    /// Appends the container's output to the sandbox's `stdout` and `stderr` until its logs stream ends, and
    /// records in the sandbox (``DockerLogPosition``) the timestamp of the last message copied, where a copy after
    /// a reconnect or a recovery resumes.
    private func copyOutput(_ followed: Followed) async {
        guard let output = followed.output else { return }
        let stdout = output.stdout
        let stderr = output.stderr
        let position = output.position
        var after = followed.logsAfter
        while !Task.isCancelled {
            do {
                try await self.client.streamLogs(followed.dockerID, after: after) { stream, payload in
                    switch stream {
                    case .stdout, .stdin: try stdout.write(payload)
                    case .stderr, .system: try stderr.write(payload)
                    }
                } copied: { last in
                    after = last
                    try position.record(last)
                }
                return
            } catch let error as AgentError where error.code == .containerNotFound {
                return
            } catch let error as AgentError where error.code == .workDirectory {
                self.logger.warning(
                    "Cannot keep a Docker container's output",
                    metadata: [LogKey.containerID: "\(followed.containerID)", LogKey.error: "\(error)"]
                )
                return
            } catch {
                if Task.isCancelled { return }
                self.logger.warning(
                    "Lost a Docker container's output stream; reconnecting",
                    metadata: [LogKey.containerID: "\(followed.containerID)", LogKey.error: "\(error)"]
                )
                try? await Task.sleep(for: self.configuration.retryInterval)
            }
        }
    }

    /// Stops a container (SIGKILL at once without a grace period); falls back to SIGKILL when stopping fails.
    private func stop(_ container: ContainerID, dockerID: String, gracePeriod: Duration) async {
        do {
            if gracePeriod <= .zero {
                try await self.client.killContainer(dockerID)
            } else {
                try await self.client.stopContainer(dockerID, timeout: gracePeriod)
            }
        } catch let error as AgentError where error.code == .containerNotFound {
            return
        } catch {
            if Task.isCancelled { return }
            self.logger.warning(
                "Stopping a Docker container failed; killing it",
                metadata: [LogKey.containerID: "\(container)", LogKey.error: "\(error)"]
            )
            do {
                try await self.client.killContainer(dockerID)
            } catch {
                self.logger.warning(
                    "Killing a Docker container failed",
                    metadata: [LogKey.containerID: "\(container)", LogKey.error: "\(error)"]
                )
            }
        }
    }

    /// Removes an exited container; one already gone is fine.
    func remove(_ container: ContainerID, dockerID: String) async {
        do {
            try await self.client.removeContainer(dockerID, force: true)
        } catch let error as AgentError where error.code == .containerNotFound {
            return
        } catch {
            if Task.isCancelled { return }
            self.logger.warning(
                "Could not remove an exited Docker container",
                metadata: [
                    LogKey.containerID: "\(container)", LogKey.dockerContainerID: "\(dockerID)",
                    LogKey.error: "\(error)",
                ]
            )
        }
    }
}
